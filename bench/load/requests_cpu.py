"""Where a sale's server time goes: the load test's requests (bench/load/locustfile.py) made one at a time in
this process with Django's test client, against the same database, each measured on its own: CPU seconds of
this process (the whole Django stack, and the Celery tasks the request enqueued, run eagerly at its commit),
SQL statements, and the tasks run. Prints a table per request kind; --cprofile KIND prints where that
kind's CPU goes.

    LOAD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/pbo_load_bench \\
        .venv/bin/python bench/load/requests_cpu.py -n 20
    make -C bench load-profile ARGS="-n 20 --cprofile 'sell: complete'"
"""

import argparse
import cProfile
import html
import io
import os
import pstats
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from bench.common import BENCH_DATABASE_URL, setup_django  # noqa: E402

HTMX = {"HX-Request": "true"}
CARD = {"number": "4242424242424242", "expiry": "12/34", "cvc": "123"}


class Recorder:
    def __init__(self, profiled: str):
        from django.db import connection

        self.connection = connection
        self.rows = defaultdict(list)
        self.tasks = defaultdict(lambda: defaultdict(int))
        self.profiled = profiled
        self.profiler = cProfile.Profile(time.process_time) if profiled else None  # CPU, not waits
        self.running: list[str] = []
        self.last_sql: dict[str, list[str]] = {}
        from celery.signals import task_prerun

        task_prerun.connect(self._task, weak=False)

    def _task(self, sender=None, **_):
        if self.running:
            self.tasks[self.running[-1]][sender.name] += 1

    def __call__(self, kind: str, method, path: str, *args, **kwargs):
        from django.test.utils import CaptureQueriesContext

        self.running.append(kind)
        profile = self.profiler if kind == self.profiled else None
        with CaptureQueriesContext(self.connection) as queries:
            cpu, wall = time.process_time(), time.perf_counter()
            if profile:
                profile.enable()
            response = method(path, *args, **kwargs)
            if profile:
                profile.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        self.running.pop()
        self.rows[kind].append((cpu * 1000, wall * 1000, len(queries)))
        self.last_sql[kind] = [query["sql"] for query in queries.captured_queries]
        if response.status_code not in (200, 302):
            raise AssertionError(f"{kind}: {response.status_code} {response.content[:300]!r}")
        return response


def _value(pattern: str, text: str) -> str:
    return html.unescape(re.search(pattern, text).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20, help="sales (half cash, half card) and pay-link payments")
    parser.add_argument("--cprofile", default="", help="a request kind to profile, e.g. 'sell: complete'")
    parser.add_argument("--sql", default="", help="a request kind whose last request's SQL is printed")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = os.environ.get("LOAD_DATABASE_URL", BENCH_DATABASE_URL)
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    setup_django()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench.load.run import prepare

    plan = prepare(cashiers=1, links=args.n + 2)
    record = Recorder(args.cprofile)
    till = Client()
    till.force_login(
        get_user_model().objects.get(email=plan["cashiers"][0]["email"]),
        backend="django.contrib.auth.backends.ModelBackend",
    )
    till.post("/sell/register/", {"register": plan["cashiers"][0]["register"]})
    rng = random.Random(13)
    for number in range(args.n + 2):  # the first two warm up
        if number == 2:
            record.rows.clear()
            record.tasks.clear()
        cart = ""
        for product in rng.sample(plan["products"], 5):
            cart = record(
                "sell: add a line",
                till.post,
                "/sell/lines/add/",
                {"product": product, "quantity": rng.randint(1, 3)},
                headers=HTMX,
            ).content.decode()
        if number % 2:
            amount = _value(r'id="pay-amount"[^>]* value="([^"]+)"', cart)
            record(
                "sell: pay cash",
                till.post,
                "/sell/payments/",
                {"payment_type": plan["cash_type"], "amount": amount},
                headers=HTMX,
            )
        else:
            page = record("sell: card page", till.get, "/sell/card/").content.decode()
            amount = _value(r'name="amount"[^>]* value="([^"]+)"', page)
            record("sandbox: card form", till.get, "/sandbox/v1/card_form")
            method = record("sandbox: tokenize card", till.post, "/sandbox/v1/payment_methods", CARD).json()
            answer = record(
                "sell: card pay", till.post, "/sell/card/pay/", {"amount": amount, "payment_method_id": method["id"]}
            ).json()
            assert answer["status"] == "succeeded", answer
            record("sell screen", till.get, "/sell/")
        record("sell: complete", till.post, "/sell/complete/", {"receipt_email": ""}, headers=HTMX)
        customer = Client(REMOTE_ADDR=f"198.51.100.{number % 250 + 1}")
        url = f"/pay/{plan['links'][number]}/"
        page = record("customer: pay page", customer.get, url).content.decode()
        amount = _value(r'name="amount" value="([^"]+)"', page)
        record("sandbox: card form", customer.get, "/sandbox/v1/card_form")
        method = record("sandbox: tokenize card", customer.post, "/sandbox/v1/payment_methods", CARD).json()
        answer = record(
            "customer: pay", customer.post, url + "payments/", {"amount": amount, "payment_method_id": method["id"]}
        ).json()
        assert answer["status"] == "succeeded", answer
        record("customer: paid page", customer.get, answer["redirect"])

    print(
        f"{os.environ['DATABASE_URL'].rsplit('/', 1)[1]}, {args.n} sales (half cash, half card) and {args.n} "
        f"pay-link payments, load average {os.getloadavg()[0]:.2f}\n"
    )
    print(
        "| Request | n | CPU p50 ms | CPU mean ms | wall p50 ms | SQL | Celery tasks run at its commit, per request |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for kind, rows in sorted(record.rows.items(), key=lambda item: -statistics.mean(r[0] for r in item[1])):
        tasks = ", ".join(
            f"{name.rsplit('.', 1)[-1]} × {count / len(rows):.1f}" for name, count in sorted(record.tasks[kind].items())
        )
        # Each count of statements seen, with how many requests made it (e.g. "19 ×80, 27 ×20").
        counts = sorted(Counter(r[2] for r in rows).items())
        sql = ", ".join(f"{count} ×{times}" for count, times in counts) if len(counts) > 1 else str(counts[0][0])
        print(
            f"| {kind} | {len(rows)} | {statistics.median(r[0] for r in rows):.1f} | "
            f"{statistics.mean(r[0] for r in rows):.1f} | {statistics.median(r[1] for r in rows):.1f} | "
            f"{sql} | {tasks} |"
        )
    per_kind = {kind: statistics.mean(r[0] for r in rows) for kind, rows in record.rows.items()}
    cash = 5 * per_kind["sell: add a line"] + per_kind["sell: pay cash"] + per_kind["sell: complete"]
    card = (
        5 * per_kind["sell: add a line"]
        + per_kind["sell: card page"]
        + per_kind["sandbox: card form"]
        + per_kind["sandbox: tokenize card"]
        + per_kind["sell: card pay"]
        + per_kind["sell screen"]
        + per_kind["sell: complete"]
    )
    print(
        f"\nCPU of a whole sale in this process: cash {cash:.0f} ms, card {card:.0f} ms, "
        f"35/65 mix {0.35 * cash + 0.65 * card:.0f} ms"
    )
    for statement in record.last_sql.get(args.sql, []):
        print(statement[:400])
    if record.profiler:
        out = io.StringIO()
        pstats.Stats(record.profiler, stream=out).sort_stats("cumulative").print_stats(60)
        print(out.getvalue())


if __name__ == "__main__":
    main()
