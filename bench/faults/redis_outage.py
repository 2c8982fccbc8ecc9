"""Faults with real processes (issue 13): Redis stopped for 30 s while cashiers sell and customers pay their
pay links, over HTTP, on a real gunicorn, `celery worker` and `celery beat`.

    .venv/bin/python bench/faults/redis_outage.py [--cashiers 4 --customers 2 --before 30 --outage 30 --after 30]

A private PostgreSQL cluster and redis-server (bench/faults/servers.py), nothing shared. The script builds
one merchant (a shop per cashier, each with its open register; on-account sales with a pay link each), then
the cashiers sell in a loop on the sell screen (add two lines, pay cash or by card through the sandbox's card
fields, complete with a receipt e-mail) and the customers pay the links (the pay page, the sandbox's card
fields, pay, the thank-you page), each link from its own loopback address (the pay pages' rate limit is per
address). After `--before` seconds Redis (the cache and the broker) is stopped; `--outage` seconds later it
starts again, empty (no persistence: every queued message is gone); the load goes on for `--after` seconds.
With --freeze, Redis is frozen instead (SIGSTOP, then SIGCONT): its port still accepts connections but nothing
answers, as with a stalled server or a lost network path; it keeps its data.

Then it waits for every side effect to arrive (the sales' receipt e-mails, the links' receipts with their
PDF, the processor's webhooks stored during the outage) and prints the figures: requests made and
answered (a 5xx or no answer within 30 s is a failure), sales completed, link payments taken, what the
database holds for them, the publishes lost while Redis was down (logged by posbackoffice.jobs) and that
the sweeps of beat re-dispatched them all, with the time it took."""

import argparse
import os
import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.faults.servers import PrivatePostgres, PrivateRedis  # noqa: E402
from bench.faults.webstack import Browser, Tally, WebStack, input_value, setup_django_on, stack_environment  # noqa: E402

VISA = "4242424242424242"
LOST_PUBLISH = r"not queued, the broker is unavailable"


def build_shop(*, cashiers: int, links: int) -> dict:
    """The merchant: a shop and open register per cashier, two products, and `links` on-account sales of a
    shop of their own, each with its pay link sent."""
    from accounts import permissions as perms
    from paylinks.links import link_token
    from paylinks.services import pay_link_send, paylink_settings_update
    from posbackoffice.money import format_input
    from tests.factories import AccountFactory, member
    from tests.retail import report_factories as rf

    account = AccountFactory(name="Redis outage")
    office = rf.make_shop(account, cheque=False)
    rf.open_register(office)
    paylink_settings_update(actor=office.actor, account=account, online_payments_enabled=True, reminder_days=None)
    jam = rf.product(office, sku="CONF-1", name="Confiture d'abricot", price=333, rate_bp=550)
    scarf = rf.product(office, sku="ECH-1", name="Écharpe", price=2450, rate_bp=2000)
    tills = []
    for number in range(cashiers):
        shop = rf.make_shop(account, cheque=False)
        rf.open_register(shop)
        cashier = member(account, perms.CASHIER, email=f"cashier{number}@faults.test", language="en")
        tills.append({"email": cashier.email, "register": shop.register.pk})
    buyer = rf.customer(office, first_name="Léa", email="lea@faults.test")
    tokens = []
    for number in range(links):
        sale = rf.sell(office, [(jam, 1 + number % 3), (scarf, 1)], payments=[], buyer=buyer, on_account=True)
        link = pay_link_send(
            actor=office.actor, account=account, sale_id=sale.pk, email="lea@faults.test", language="en"
        )
        tokens.append((link_token(link), format_input(link.amount, link.currency), link.pk))
    return {
        "account": account.pk,
        "tills": tills,
        "cash": office.cash.pk,
        "products": [jam.pk, scarf.pk],
        "links": tokens,
        "office_register": office.register.pk,
    }


class Load:
    """The cashiers' and customers' loops, until `stop` is set; what each completed."""

    def __init__(self, base_url: str, shop: dict, urls: dict, *, customers: int):
        self.base_url, self.shop, self.urls, self.customers = base_url, shop, urls, customers
        self.tally = Tally()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sales_completed: list[int] = []
        self.sales_by_kind = {"cash": 0, "card": 0}
        self.sale_failures: list[str] = []
        self.links_paid: list[int] = []
        self.link_failures: list[str] = []
        self.pending_links = list(shop["links"])

    def _failed(self, where: list, what: str) -> None:
        with self.lock:
            where.append(what)

    def _card_method(self, browser: Browser) -> str | None:
        answer = browser.post(self.urls["payment_methods"], {"number": VISA, "expiry": "12/40", "cvc": "123"})
        return answer.json().get("id") if answer is not None and answer.status_code == 200 else None

    def cashier(self, till: dict, seed: int) -> None:
        draw = random.Random(seed)
        browser = Browser(self.base_url, self.tally)
        browser.login(self.urls["login"], till["email"])
        browser.post(self.urls["choose_register"], {"register": till["register"]})
        while not self.stop.is_set():
            self._one_sale(browser, draw)

    def _one_sale(self, browser: Browser, draw: random.Random) -> None:
        added = None
        for product in self.shop["products"]:
            added = browser.post(self.urls["sell_add"], {"product": product, "quantity": draw.randint(1, 3)}, hx=True)
            if added is None or added.status_code != 200:
                return self._failed(self.sale_failures, f"add: {added and added.status_code}")
        kind = draw.choice(["cash", "card"])
        if kind == "cash":
            # More than any cart's total: the cashier gives the change.
            paid = browser.post(self.urls["sell_pay"], {"payment_type": self.shop["cash"], "amount": "200"}, hx=True)
            if paid is None or paid.status_code != 200:
                return self._failed(self.sale_failures, f"cash: {paid and paid.status_code}")
        else:
            page = browser.get(self.urls["card"])
            amount = input_value(page.text, "card-amount") if page is not None and page.status_code == 200 else None
            method = self._card_method(browser) if amount else None
            answer = (
                browser.post(self.urls["card_pay"], {"amount": amount, "payment_method_id": method}) if method else None
            )
            status = answer.json().get("status") if answer is not None and answer.status_code == 200 else None
            if status != "succeeded":
                return self._failed(self.sale_failures, f"card: {status or (answer and answer.status_code)}")
        done = browser.post(self.urls["sell_complete"], {"receipt_email": "client@faults.test"}, hx=True)
        if done is None or done.status_code != 200 or " completed." not in done.text:
            return self._failed(self.sale_failures, f"complete: {done and done.status_code}")
        number = int(done.text.split(" completed.")[0].rsplit("Sale ", 1)[1].split()[0])
        with self.lock:
            self.sales_completed.append(number)
            self.sales_by_kind[kind] += 1
        return None

    def customer(self, number: int) -> None:
        while not self.stop.is_set():
            with self.lock:
                if not self.pending_links:
                    return
                token, amount, link_id = self.pending_links.pop()
            # Each link is paid by another customer: another address.
            browser = Browser(
                self.base_url, self.tally, address=f"127.0.{number + 1}.{len(self.pending_links) % 250 + 2}"
            )
            self._pay(browser, token, amount, link_id)
            time.sleep(1)  # the next customer opens their e-mail

    def _pay(self, browser: Browser, token: str, amount: str, link_id: int) -> None:
        page = browser.get(self.urls["pay"].format(token=token))
        if page is None or page.status_code != 200:
            return self._failed(self.link_failures, f"page: {page and page.status_code}")
        method = self._card_method(browser)
        answer = browser.post(
            self.urls["pay_start"].format(token=token), {"amount": amount, "payment_method_id": method or ""}
        )
        status = answer.json().get("status") if answer is not None and answer.status_code == 200 else None
        if status != "succeeded":
            return self._failed(self.link_failures, f"pay: {status or (answer and answer.status_code)}")
        thanks = browser.get(self.urls["paid"].format(token=token))
        if thanks is None or thanks.status_code != 200:
            return self._failed(self.link_failures, f"paid page: {thanks and thanks.status_code}")
        with self.lock:
            self.links_paid.append(link_id)
        return None


def side_effects_due(account_id: int) -> dict:
    """What the run left to do in the background: e-mails not sent, link e-mails not rendered, webhooks
    not handled, payments and refunds not settled. All zero: every side effect arrived."""
    from accounts.models import OutgoingEmail
    from paylinks.models import PayLinkEmail
    from payments.models import Payment, WebhookEvent
    from payments.webhook_events import handled_types

    return {
        "e-mails not sent": OutgoingEmail.objects.exclude(status=OutgoingEmail.Status.SENT).count(),
        "link e-mails not rendered": PayLinkEmail.objects.filter(
            link__account_id=account_id, email__isnull=True
        ).count(),
        "webhooks not handled": WebhookEvent.objects.filter(
            processed_at__isnull=True, type__in=handled_types()
        ).count(),
        "payments pending": Payment.objects.filter(account_id=account_id, status=Payment.Status.PENDING).count(),
    }


def slow_by_phase(slow: list, stopped_clock: float, outage: float) -> str:
    """How many answers took more than 2 s, by when they were asked: before Redis stopped, while it was down,
    after it came back (and the slowest of each)."""
    phases = {"before": [], "during": [], "after": []}
    for at, seconds, _what in slow:
        phase = "before" if at < stopped_clock else "during" if at < stopped_clock + outage else "after"
        phases[phase].append(seconds)
    return " / ".join(f"{len(times)}" + (f" (≤ {max(times):.1f} s)" if times else "") for times in phases.values())


def wait_for(check, *, timeout: float) -> float | None:
    """Seconds until `check()` holds, or None after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(1)
    return None


def urls() -> dict:
    from django.urls import reverse

    token = "TOKEN"
    return {
        "login": reverse("login"),
        "choose_register": reverse("retail:sell_choose_register"),
        "sell_add": reverse("retail:sell_add"),
        "sell_pay": reverse("retail:sell_pay"),
        "sell_complete": reverse("retail:sell_complete"),
        "card": reverse("payments_sell:card"),
        "card_pay": reverse("payments_sell:card_pay"),
        "payment_methods": reverse("payments_sandbox:payment_methods"),
        **{
            name: reverse(f"paylinks:{name}", kwargs={"token": token}).replace(token, "{token}")
            for name in ("pay", "pay_start", "paid")
        },
    }


def database_figures(shop: dict, load: Load, outage: tuple) -> dict:
    """What the database holds for what the browsers were told, and what the outage window left behind."""
    from accounts.models import OutgoingEmail
    from paylinks.models import PayLink, PayLinkEmail
    from payments.models import Payment, WebhookEvent
    from retail.models import Sale

    account = shop["account"]
    registers = [till["register"] for till in shop["tills"]]
    completed = Sale.objects.filter(account_id=account, register_id__in=registers, status=Sale.Status.COMPLETED)
    paid_links = PayLink.objects.filter(account_id=account, status=PayLink.Status.COMPLETED)
    during = {"created_at__gte": outage[0], "created_at__lte": outage[1]}
    return {
        "sales completed (database)": completed.count(),
        "sales told completed, missing from the database": len(
            set(load.sales_completed) - set(completed.values_list("receipt_number", flat=True))
        ),
        "card payments taken on a sale left open": Payment.objects.filter(
            account_id=account, status=Payment.Status.SUCCEEDED, sale__status=Sale.Status.OPEN
        ).count(),
        "links paid (database)": paid_links.count(),
        "links told paid, not paid in the database": len(
            set(load.links_paid) - set(paid_links.values_list("pk", flat=True))
        ),
        "sale receipts queued": OutgoingEmail.objects.filter(recipients=["client@faults.test"]).count(),
        "link receipts rendered": PayLinkEmail.objects.filter(
            link__in=paid_links, kind=PayLinkEmail.Kind.RECEIPT, email__isnull=False
        ).count(),
        "e-mails written during the outage": OutgoingEmail.objects.filter(**during).count(),
        "link e-mails written during the outage": PayLinkEmail.objects.filter(**during).count(),
        "webhooks stored during the outage": WebhookEvent.objects.filter(
            received_at__gte=outage[0], received_at__lte=outage[1]
        ).count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cashiers", type=int, default=4)
    parser.add_argument("--customers", type=int, default=2)
    parser.add_argument("--before", type=float, default=30, help="seconds of load before Redis stops")
    parser.add_argument("--outage", type=float, default=30, help="seconds Redis stays stopped")
    parser.add_argument(
        "--freeze",
        action="store_true",
        help="freeze Redis (SIGSTOP, then SIGCONT) instead of stopping it: connections hang instead of being refused",
    )
    parser.add_argument("--after", type=float, default=30, help="seconds of load after Redis is back")
    parser.add_argument("--drain", type=float, default=600, help="seconds to wait for the side effects")
    args = parser.parse_args()
    duration = args.before + args.outage + args.after
    workdir = Path(tempfile.mkdtemp(prefix="pbo-faults-redis-outage-"))
    with PrivatePostgres() as pg, PrivateRedis() as redis:
        pg.create_database("faults")
        env = stack_environment(pg, redis, "faults", workdir)
        setup_django_on(env)
        from django.utils import timezone

        # A customer pays a link every ~1.5 s (the page, the card, the answer, the thank-you page, a pause).
        shop = build_shop(cashiers=args.cashiers, links=int(args.customers * duration / 1.5) + 10)
        with WebStack(env, workdir) as web:
            if wait_for(lambda: not any(side_effects_due(shop["account"]).values()), timeout=args.drain) is None:
                print("the links' e-mails were not all sent before the run:", side_effects_due(shop["account"]))
                return 1
            load = Load(web.base_url, shop, urls(), customers=args.customers)
            threads = [
                threading.Thread(target=load.cashier, args=(till, number), daemon=True)
                for number, till in enumerate(shop["tills"])
            ]
            threads += [
                threading.Thread(target=load.customer, args=(number,), daemon=True) for number in range(args.customers)
            ]
            load_average = [os.getloadavg()[0]]
            for thread in threads:
                thread.start()
            time.sleep(args.before)
            made_before = load.tally.made
            stopped, stopped_clock = timezone.now(), time.monotonic()
            if args.freeze:
                os.kill(redis.process.pid, signal.SIGSTOP)
            else:
                redis.stop()
            time.sleep(args.outage)
            if args.freeze:
                os.kill(redis.process.pid, signal.SIGCONT)
            else:
                redis.start()
            restarted, restarted_clock = timezone.now(), time.monotonic()
            made_during = load.tally.made - made_before
            time.sleep(args.after)
            load.stop.set()
            for thread in threads:
                thread.join(timeout=60)
            load_average.append(os.getloadavg()[0])
            drained = wait_for(lambda: not any(side_effects_due(shop["account"]).values()), timeout=args.drain)
            since_restart = time.monotonic() - restarted_clock
            left = side_effects_due(shop["account"])
            figures = database_figures(shop, load, (stopped, restarted))
            lost_publishes = sum(web.log_lines(name, LOST_PUBLISH) for name in ("gunicorn", "worker", "beat"))
            alive = web.alive()
            errors_5xx = {status: count for status, count in load.tally.statuses.items() if status >= 500}
            mails = sum(1 for path in (workdir / "mail").rglob("*") if path.is_file())
    tally = load.tally
    print(
        f"Redis outage: {args.cashiers} cashiers, {args.customers} customers; {args.before:.0f} s of load, "
        f"Redis {'frozen' if args.freeze else 'stopped'} {args.outage:.0f} s, {args.after:.0f} s after; load average "
        f"{load_average[0]:.2f} → {load_average[1]:.2f}; logs in {workdir}\n"
    )
    rows = [
        ("requests made", f"{tally.made} ({made_during} while Redis was down)"),
        ("requests answered with a page (< 500)", f"{tally.answered}"),
        ("5xx / no answer within 30 s", f"{errors_5xx or 0} / {dict(tally.errors) or 0}"),
        ("slowest answer", f"{tally.slowest:.2f} s"),
        (
            "answers slower than 2 s, before / during / after the outage",
            slow_by_phase(tally.slow, stopped_clock, args.outage),
        ),
        ("statuses", ", ".join(f"{status}: {count}" for status, count in sorted(tally.statuses.items()))),
        (
            "sales completed (told the cashier)",
            f"{len(load.sales_completed)} ({load.sales_by_kind['cash']} cash, {load.sales_by_kind['card']} card)",
        ),
        ("sales not completed (what the cashier saw)", f"{len(load.sale_failures)} {load.sale_failures[:5]}"),
        ("link payments taken (told the customer)", f"{len(load.links_paid)}"),
        ("link payments refused (what the customer saw)", f"{len(load.link_failures)} {load.link_failures[:5]}"),
        *((name, str(value)) for name, value in figures.items()),
        ("publishes lost while Redis was down (logged)", str(lost_publishes)),
        ("e-mails delivered (files in the outbox)", str(mails)),
        (
            "every side effect arrived",
            f"yes, {since_restart:.0f} s after Redis came back" if drained is not None else f"NO: {left}",
        ),
        ("gunicorn, worker, beat still running", str(alive)),
    ]
    print("| What | Measured |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    lost = (
        errors_5xx
        or tally.errors
        or drained is None
        or figures["sales told completed, missing from the database"]
        or figures["links told paid, not paid in the database"]
        or figures["card payments taken on a sale left open"]
        or figures["sales completed (database)"] != len(load.sales_completed)
    )
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
