"""Faults with real processes (issue 13): 1,000 processor webhook deliveries over HTTP to the sandbox's
webhook endpoint on a real gunicorn, handled by a real `celery worker` (and `celery beat`'s sweeps), with
duplicates, reordering and 5 % forged; the final state must equal processing the clean sequence once.

    .venv/bin/python bench/faults/webhooks.py [--deliveries 1000 --forged 0.05 --senders 4]

A private PostgreSQL cluster and redis-server (bench/faults/servers.py), nothing shared.

1. Real payments through the sandbox processor, in this process, its events held back (not delivered):
   pay links paid by card (some declined) whose answer never reached us (our process "crashed" between our
   row and the processor's answer: the payment stays pending until the webhook or the reconciliation
   settles it), card sales answered at once (their events change nothing), and partial refunds of those
   whose answer was lost the same way. The links' e-mails are sent by a worker before anything else.
2. The database is copied (CREATE DATABASE … TEMPLATE): one copy gets the clean sequence, each event once
   in the processor's order, from one sender; the other gets the faulty sequence: the same events with
   duplicates, shuffled, sent by `--senders` concurrent senders, and `--forged` of all deliveries forged
   (another secret, a real signature on another body, no signature, a signature an hour old, an amount
   doubled under the original signature). Each run is its own gunicorn, worker and beat on its copy.
3. Every forged delivery must be refused (4xx) and store nothing; every genuine one accepted (200). Once all
   are handled, our payments, refunds, sales and links of both copies must be equal, and `manage.py
   reconcile` must find no difference between either copy and the processor.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.faults.servers import PrivatePostgres, PrivateRedis  # noqa: E402
from bench.faults.webstack import Browser, Tally, WebStack, setup_django_on, stack_environment  # noqa: E402

VISA, DECLINED = "4242424242424242", "4000000000000002"
FORGERIES = ("wrong secret", "tampered", "unsigned", "stale", "amount doubled")


def make_payments(*, events: int, seed: int) -> dict:
    """Real payments through the sandbox until it holds `events` undelivered events (see the module's doc)."""
    from paylinks.services import pay_link_send, pay_link_start_payment, paylink_settings_update
    from payments import services
    from payments.models import Payment
    from payments.sandbox import services as processor
    from payments.sandbox.events import hold_events
    from payments.sandbox.models import SandboxEvent
    from retail.models import Sale
    from retail.services.sales import sale_complete
    from tests.factories import AccountFactory
    from tests.integrity.machine import _with_fault
    from tests.retail import report_factories as rf

    draw = random.Random(seed)
    account = AccountFactory(name="Webhooks")
    shop = rf.make_shop(account, cheque=False)
    rf.open_register(shop)
    paylink_settings_update(actor=shop.actor, account=account, online_payments_enabled=True, reminder_days=None)
    item = rf.product(shop, sku="ART-1", name="Article", price=1250, rate_bp=2000)
    buyer = rf.customer(shop, first_name="Léa", email="lea@faults.test")
    made = Counter()
    with hold_events():
        while SandboxEvent.objects.filter(delivered_at__isnull=True).count() < events:
            # A pay link paid by card; the answer is lost (the webhook is the first to tell us).
            sale = rf.sell(shop, [(item, draw.randint(1, 3))], payments=[], buyer=buyer, on_account=True)
            link = pay_link_send(
                actor=shop.actor, account=account, sale_id=sale.pk, email="lea@faults.test", language="en"
            )
            number = draw.choice([VISA, VISA, VISA, DECLINED])
            method = processor.payment_method_create(number=number, expiry="12/40", cvc="123")["id"]
            payment = pay_link_start_payment(link_id=link.pk, amount=link.amount, payment_method_id=method)
            _with_fault("crash", "create_card_payment", lambda pk=payment.pk: services.payment_charge(payment_id=pk))
            made["link payments, answer lost"] += 1
            # A card sale answered at once: its event arrives after the fact.
            sale = Sale.objects.get(pk=rf.leave_in_progress(shop, [(item, draw.randint(1, 3))]).pk)
            method = processor.payment_method_create(number=VISA, expiry="12/40", cvc="123")["id"]
            payment = services.payment_create(
                actor=shop.actor,
                account=account,
                amount=sale.balance_due,
                currency="EUR",
                method=Payment.Method.CARD_NOT_PRESENT,
                mode=Payment.Mode.INTEGRATED,
                sale_id=sale.pk,
                payment_method_id=method,
            )
            services.payment_charge(payment_id=payment.pk)
            sale_complete(actor=shop.actor, account=account, sale_id=sale.pk)
            made["card sales, answered"] += 1
            # A partial refund of it; the answer is lost.
            refund = services.refund_create(
                actor=shop.actor,
                account=account,
                payment_id=payment.pk,
                amount=payment.amount // draw.choice([2, 3, 4]),
            )
            _with_fault("crash", "refund", lambda pk=refund.pk: services.refund_send(refund_id=pk))
            made["partial refunds, answer lost"] += 1
    return {"account": account.pk, "made": made}


def deliveries(*, total: int, forged_share: float, seed: int) -> tuple[list[tuple], list[tuple]]:
    """The clean sequence (each held event once, in order) and the faulty one (duplicates, shuffled, forged):
    [(kind, payload bytes, signature timestamp or None, secret or None, forgery)], signed when sent."""
    from django.conf import settings

    from payments.sandbox.events import payload_bytes
    from payments.sandbox.models import SandboxEvent

    draw = random.Random(seed)
    secret = settings.SANDBOX_WEBHOOK_SECRET
    events = [payload_bytes(event) for event in SandboxEvent.objects.filter(delivered_at__isnull=True).order_by("pk")]
    clean = [("genuine", payload, secret, "") for payload in events]
    forged_count = round(total * forged_share)
    duplicates = max(0, total - forged_count - len(events))
    faulty = clean + [("duplicate", payload, secret, "") for payload in draw.choices(events, k=duplicates)]
    for number in range(forged_count):
        how = FORGERIES[number % len(FORGERIES)]
        original = draw.choice(events)
        body = json.loads(original)
        obj = body["data"]["object"]
        if how == "amount doubled":  # the real event's signature over a body whose amount was changed
            obj["amount"] = obj.get("amount", 1) * 2
            faulty.append(
                (
                    "forged",
                    json.dumps(body, separators=(",", ":"), sort_keys=True).encode(),
                    secret,
                    f"signed:{original.decode()}",
                )
            )
            continue
        body["id"] += "_forged"
        obj["status"] = "succeeded"
        payload = json.dumps(body).encode()
        faulty.append(
            (
                "forged",
                payload,
                {"wrong secret": "whsec_not_the_secret", "tampered": secret, "unsigned": None, "stale": secret}[how],
                {"tampered": f"signed:{original.decode()}", "stale": "stale"}.get(how, ""),
            )
        )
    draw.shuffle(faulty)
    return clean, faulty


def signature(payload: bytes, secret: str | None, forgery: str) -> str:
    from payments.sandbox.events import sign

    if secret is None:
        return ""
    if forgery.startswith("signed:"):  # a genuine signature, of another body
        return sign(forgery.removeprefix("signed:").encode(), secret)
    return sign(payload, secret, timestamp=int(time.time()) - 3600 if forgery == "stale" else None)


def send(base_url: str, path: str, sequence: list[tuple], *, senders: int) -> tuple[Tally, Counter]:
    """Deliver the sequence with `senders` concurrent senders; (requests, Counter of (kind, status))."""
    tally, outcomes, lock = Tally(), Counter(), threading.Lock()
    queue = list(reversed(sequence))

    def sender() -> None:
        browser = Browser(base_url, tally)
        while True:
            with lock:
                if not queue:
                    return
                kind, payload, secret, forgery = queue.pop()
            answer = browser.request(
                "POST",
                path,
                data=payload,
                headers={"Content-Type": "application/json", "Stripe-Signature": signature(payload, secret, forgery)},
            )
            with lock:
                outcomes[(kind, answer.status_code if answer is not None else None)] += 1

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, outcomes


def use_database(name: str) -> None:
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def still_to_do(account_id: int) -> int:
    from payments.models import Payment, Refund, WebhookEvent
    from payments.webhook_events import handled_types

    return (
        WebhookEvent.objects.filter(processed_at__isnull=True, type__in=handled_types()).count()
        + Payment.objects.filter(account_id=account_id, status=Payment.Status.PENDING).count()
        + Refund.objects.filter(payment__account_id=account_id, status=Refund.Status.PENDING).count()
    )


def snapshot(account_id: int) -> dict:
    """Our money records, as compared between the two copies."""
    from paylinks.models import PayLink
    from payments.models import Payment, Refund
    from retail.models import Sale

    def rows(queryset, *fields):
        return list(queryset.order_by("pk").values_list("pk", *fields))

    return {
        "payments": rows(
            Payment.objects.filter(account_id=account_id),
            "status",
            "amount",
            "amount_refunded",
            "processor_payment_id",
            "failure_code",
            "sale_id",
        ),
        "refunds": rows(
            Refund.objects.filter(payment__account_id=account_id),
            "status",
            "amount",
            "processor_refund_id",
            "failure_code",
        ),
        "sales": rows(Sale.objects.filter(account_id=account_id), "status", "total", "paid_total", "returned_total"),
        "links": rows(PayLink.objects.filter(account_id=account_id), "status"),
    }


def handling(account_id: int) -> dict:
    """How the copy got there: events stored and their outcomes, and who settled the payments and refunds."""
    from accounts.models import AuditEvent
    from payments.models import WebhookEvent

    settled = AuditEvent.objects.filter(
        action__in=["payment.succeeded", "payment.failed", "payment.refund_succeeded", "payment.refund_failed"],
        account_id=account_id,
    )
    return {
        "events stored": WebhookEvent.objects.count(),
        "outcomes": Counter(WebhookEvent.objects.values_list("outcome", flat=True)),
        "settled by": Counter(
            (action, (after or {}).get("source", "")) for action, after in settled.values_list("action", "after")
        ),
    }


def reconcile(env: dict) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "manage.py", "reconcile"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done.returncode, (done.stdout + done.stderr).strip().splitlines()[-1:]


def run(
    pg,
    redis,
    database: str,
    redis_databases: tuple[int, int],
    workdir: Path,
    sequence: list[tuple],
    *,
    senders: int,
    account_id: int,
    drain: float,
) -> dict:
    """One copy: its own gunicorn, worker and beat; deliver, wait until everything is handled, read it."""
    from django.urls import reverse

    env = stack_environment(pg, redis, database, workdir, redis_databases=redis_databases)
    use_database(database)
    with WebStack(env, workdir) as web:
        started = time.monotonic()
        tally, outcomes = send(web.base_url, reverse("webhooks:sandbox"), sequence, senders=senders)
        sent = time.monotonic() - started
        while still_to_do(account_id) and time.monotonic() - started < drain:
            time.sleep(1)
        handled = time.monotonic() - started
        left = still_to_do(account_id)
    code, last_line = reconcile(env)
    return {
        "tally": tally,
        "outcomes": outcomes,
        "sent": sent,
        "handled": handled,
        "left": left,
        "snapshot": snapshot(account_id),
        "handling": handling(account_id),
        "reconcile": (code, last_line),
    }


def links_emailed() -> bool:
    from accounts.models import OutgoingEmail
    from paylinks.models import PayLinkEmail

    return (
        not PayLinkEmail.objects.filter(email__isnull=True).exists()
        and not OutgoingEmail.objects.exclude(status=OutgoingEmail.Status.SENT).exists()
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--forged", type=float, default=0.05, help="the share of deliveries forged")
    parser.add_argument("--duplicates", type=float, default=0.5, help="duplicates per genuine event")
    parser.add_argument("--senders", type=int, default=4, help="concurrent senders of the faulty sequence")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--drain", type=float, default=600, help="seconds to wait for the handling")
    args = parser.parse_args()
    genuine = round(args.deliveries * (1 - args.forged) / (1 + args.duplicates))
    workdir = Path(tempfile.mkdtemp(prefix="pbo-faults-webhooks-"))
    load_average = [os.getloadavg()[0]]
    with PrivatePostgres() as pg, PrivateRedis() as redis:
        pg.create_database("webhooks")
        env = stack_environment(pg, redis, "webhooks", workdir / "setup")
        setup_django_on(env)
        started = time.monotonic()
        shop = make_payments(events=genuine, seed=args.seed)
        made_in = time.monotonic() - started
        with WebStack(env, workdir / "setup", beat=False) as web:  # the links' e-mails, sent before the runs
            while not links_emailed():
                if not all(web.alive().values()):
                    raise RuntimeError(f"the setup's stack stopped: {web.alive()}")
                time.sleep(1)
        clean, faulty = deliveries(total=args.deliveries, forged_share=args.forged, seed=args.seed)
        use_database("postgres")
        import psycopg

        with psycopg.connect(pg.url("postgres"), autocommit=True) as connection:
            connection.execute("CREATE DATABASE webhooks_clean TEMPLATE webhooks")
        common = {"senders": 1, "account_id": shop["account"], "drain": args.drain}
        once = run(pg, redis, "webhooks_clean", (2, 3), workdir / "clean", clean, **common)
        common["senders"] = args.senders
        faulty_run = run(pg, redis, "webhooks", (4, 5), workdir / "faulty", faulty, **common)
    load_average.append(os.getloadavg()[0])

    kinds = Counter(kind for kind, *_ in faulty)
    refused = sum(
        count
        for (kind, status), count in faulty_run["outcomes"].items()
        if kind == "forged" and status is not None and 400 <= status < 500
    )
    accepted = sum(
        count for (kind, status), count in faulty_run["outcomes"].items() if kind != "forged" and status == 200
    )
    same = {name: rows == once["snapshot"][name] for name, rows in faulty_run["snapshot"].items()}
    print(
        f"Webhooks: {len(clean)} genuine events from {dict(shop['made'])} (made in {made_in:.0f} s); "
        f"load average {load_average[0]:.2f} → {load_average[1]:.2f}; logs in {workdir}\n"
    )
    print("| What | Clean run | Faulty run |\n|---|---|---|")
    rows = [
        (
            "deliveries",
            f"{len(clean)}, in order, 1 sender",
            f"{len(faulty)}: {kinds['genuine']} genuine, {kinds['duplicate']} duplicates, {kinds['forged']} forged "
            f"({', '.join(FORGERIES)}), shuffled, {args.senders} senders",
        ),
        ("answers", _statuses(once["outcomes"]), _statuses(faulty_run["outcomes"])),
        ("forged refused (4xx)", "–", f"{refused} of {kinds['forged']}"),
        (
            "genuine and duplicates accepted (200)",
            str(sum(count for (kind, status), count in once["outcomes"].items() if status == 200)),
            f"{accepted} of {kinds['genuine'] + kinds['duplicate']}",
        ),
        ("5xx / no answer", _failures(once["tally"]), _failures(faulty_run["tally"])),
        (
            "sent in / all handled in",
            f"{once['sent']:.1f} s / {once['handled']:.1f} s",
            f"{faulty_run['sent']:.1f} s / {faulty_run['handled']:.1f} s",
        ),
        ("events stored", str(once["handling"]["events stored"]), str(faulty_run["handling"]["events stored"])),
        ("left unhandled (events, pending payments and refunds)", str(once["left"]), str(faulty_run["left"])),
        ("event outcomes", _counts(once["handling"]["outcomes"]), _counts(faulty_run["handling"]["outcomes"])),
        ("settled by (audit)", _counts(once["handling"]["settled by"]), _counts(faulty_run["handling"]["settled by"])),
        ("`manage.py reconcile`", _reconciled(once["reconcile"]), _reconciled(faulty_run["reconcile"])),
        (
            "final state equal to the clean run's",
            "–",
            ", ".join(
                f"{name} ({len(faulty_run['snapshot'][name])}): {'equal' if equal else 'DIFFERENT'}"
                for name, equal in same.items()
            ),
        ),
    ]
    for row in rows:
        print("| " + " | ".join(row) + " |")
    good = (
        refused == kinds["forged"]
        and accepted == kinds["genuine"] + kinds["duplicate"]
        and all(same.values())
        and not once["left"]
        and not faulty_run["left"]
        and once["reconcile"][0] == 0
        and faulty_run["reconcile"][0] == 0
    )
    return 0 if good else 1


def _statuses(outcomes: Counter) -> str:
    return ", ".join(
        f"{kind} {status}: {count}"
        for (kind, status), count in sorted(outcomes.items(), key=lambda item: (item[0][0], item[0][1] or 0))
    )


def _failures(tally: Tally) -> str:
    errors = f" ({', '.join(f'{name}: {count}' for name, count in tally.errors.items())})" if tally.errors else ""
    slow = f"; {len(tally.slow)} answers over 2 s, the slowest {tally.slowest:.1f} s" if tally.slow else ""
    return (
        f"{sum(count for status, count in tally.statuses.items() if status >= 500)} / {sum(tally.errors.values())}"
        + (errors + slow)
    )


def _counts(counter: Counter) -> str:
    return ", ".join(
        f"{' '.join(filter(None, key)) if isinstance(key, tuple) else key}: {count}"
        for key, count in sorted(counter.items(), key=str)
    )


def _reconciled(result: tuple) -> str:
    code, last_line = result
    return f"exit {code}{': ' + last_line[0] if last_line else ''}"


if __name__ == "__main__":
    sys.exit(main())
