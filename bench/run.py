"""Measure the POS core against the seeded benchmark database (bench/seed.py).

Pages go through Django's test Client (the whole stack: middleware, view, selector, template),
logged in as the shop's owner, DEBUG off. Each case runs twice to warm up, then N times; it reports
p50/p95 of the time spent in the server and the number of SQL queries (CaptureQueriesContext).
Completing a sale calls the services directly. The CSV export runs in child processes, so each
one's peak memory is its own.

    .venv/bin/python bench/run.py                      # everything, N=50
    .venv/bin/python bench/run.py --only history,sell  # some groups: history customers sell sale export
    .venv/bin/python bench/run.py --explain            # also EXPLAIN ANALYZE every SELECT above 5 ms
    .venv/bin/python bench/run.py --only sell -n 5 --explain 0   # ... or every SELECT
"""

import argparse
import datetime
import html
import json
import math
import random
import re
import resource
import statistics
import subprocess
import sys
import time
import zoneinfo
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote

import common

GROUPS = ("history", "customers", "sell", "sale", "export")
PAGE_TARGET_MS = 50
COMPLETE_SALE_TARGET_MS = 30
EXPORT_TARGET_ROWS_PER_S = 50_000
HTMX = {"HX-Request": "true"}
SLOW_QUERY_MS = 5.0


def query_ms(query: dict) -> float:
    """A captured statement's duration: Django records seconds as text; timings, never money."""
    return float(query["time"]) * 1000


@dataclass
class Case:
    group: str
    name: str
    target_ms: float
    times_ms: list = field(default_factory=list)
    queries: list = field(default_factory=list)
    db_ms: list = field(default_factory=list)

    def p(self, q: float) -> float:
        """Nearest-rank percentile of the times."""
        ordered = sorted(self.times_ms)
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]

    @property
    def query_range(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}–{high}"

    @property
    def target(self) -> str:
        return f"p95 ≤ {self.target_ms:g} ms"

    @property
    def met(self) -> bool:
        return self.p(95) <= self.target_ms

    def row(self) -> str:
        return (f"| {self.name} | {self.p(50):.1f} | {self.p(95):.1f} | {statistics.median(self.db_ms):.1f} | "
                f"{self.query_range} | {self.target} | {'yes' if self.met else '**no**'} |")


def percentile_line(case: Case) -> str:
    return (f"  {case.name:<58} p50 {case.p(50):7.1f} ms  p95 {case.p(95):7.1f} ms  "
            f"db p50 {statistics.median(case.db_ms):6.1f} ms  queries {case.query_range}")


class Bench:
    def __init__(self, n: int, explain: float | None, sql: bool = False):
        from django.contrib.auth import get_user_model
        from django.test import Client

        from accounts.models import Membership

        self.n = n
        self.explain = explain
        self.sql = sql
        self.cases: list[Case] = []
        self.owner = get_user_model().objects.get(email=common.OWNER_EMAIL)
        self.account = Membership.objects.select_related("account").get(user=self.owner).account
        self.client = Client(raise_request_exception=True)
        self.client.force_login(self.owner, backend="django.contrib.auth.backends.ModelBackend")

    # ---- measuring ---------------------------------------------------------------------------

    def measure(self, group: str, name: str, target_ms: float, action, check=None, *, warmup: int = 2) -> Case:
        """Time `action` (then, untimed, `check` its result) N times after `warmup` runs."""
        case = Case(group=group, name=name, target_ms=target_ms)
        for _ in range(warmup):
            result = action()
            if check:
                check(result)
        for _ in range(self.n):
            result, captured = self.sample(case, action)
            if check:
                check(result)
        self.report(case, captured)
        return case

    @staticmethod
    def sample(case: Case, action):
        """Run `action` once, adding its time, statement count and statements' time to `case`."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            result = action()
            elapsed = time.perf_counter() - start
        case.times_ms.append(elapsed * 1000)
        case.queries.append(len(captured.captured_queries))
        case.db_ms.append(sum(query_ms(q) for q in captured.captured_queries))
        return result, captured.captured_queries

    def report(self, case: Case, last_queries) -> None:
        """Print the case's line (and, as asked, the statements of its last run and their plans)."""
        self.cases.append(case)
        print(percentile_line(case), flush=True)
        if self.sql:
            for query in last_queries:
                print(f"    {query_ms(query):5.1f} ms  {query['sql'][:160]}")
        if self.explain is not None:
            self.explain_slow(last_queries)

    def explain_slow(self, queries) -> None:
        from django.db import connection

        for query in queries:
            if query_ms(query) < self.explain or not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                plan = "\n".join("      " + row[0] for row in cursor.fetchall())
            print(f"    -- {query_ms(query):.1f} ms: {query['sql'][:400]}\n{plan}")

    def page(self, group: str, name: str, path: str, data=None, *, htmx: bool = False,
             expect: str | None = None) -> Case:
        """GET a page (as htmx asks for a partial, with htmx=True); it must answer 200 and contain `expect`."""
        headers = {"HX-Request": "true"} if htmx else {}

        def check(response):
            if response.status_code != 200:
                raise AssertionError(f"GET {path} {data}: {response.status_code}")
            if expect is not None and expect not in response.content.decode():
                raise AssertionError(f"GET {path} {data}: {expect!r} not in the page")

        return self.measure(group, name, PAGE_TARGET_MS,
                            lambda: self.client.get(path, data or {}, headers=headers), check)

    # ---- the cases ---------------------------------------------------------------------------

    def follow(self, path: str, pages: int) -> str:
        """Follow the list's link to the next page `pages` times, as a person would; the last cursor."""
        cursor, walk = None, []
        for _ in range(pages):
            start = time.perf_counter()
            response = self.client.get(path, {"after": cursor} if cursor else {})
            walk.append((time.perf_counter() - start) * 1000)
            cursor = unquote(re.search(r'[?;]after=([^"&]+)"', response.content.decode()).group(1))
        print(f"  (walked {pages} pages: {statistics.median(walk):.1f} ms median per page)")
        return cursor

    @staticmethod
    def depth(rows: int) -> int:
        """Pages to follow: 199 (page 200, 10,000 rows deep), or as many as a smaller database has."""
        return max(1, min(199, -(-rows // 50) - 1))

    def history(self) -> None:
        from django.db import connection

        from retail.models import Customer, Sale
        from retail.selectors.history import HISTORY_STATUSES, SALE_PAGES

        print("Sales history")
        self.page("history", "history page 1", "/history/")
        self.page("history", "history page 1, status=on_account", "/history/", {"status": "on_account"})
        sales = Sale.objects.filter(account=self.account, status__in=HISTORY_STATUSES).count()
        pages = self.depth(sales)
        cursor = self.follow("/history/", pages)
        self.page("history", f"history page {pages + 1} ({pages * 50:,} sales deep, followed cursor)", "/history/",
                  {"after": cursor})
        deep = min(500_000, sales // 2)
        with connection.cursor() as db:
            db.execute("""SELECT completed_at, id FROM retail_sale WHERE account_id = %s
                          AND status IN ('completed', 'on_account', 'voided', 'returned')
                          ORDER BY completed_at DESC, id DESC OFFSET %s LIMIT 1""", [self.account.pk, deep])
            moment, pk = db.fetchone()
        self.page("history", f"history {deep:,} sales deep (built cursor)", "/history/",
                  {"after": SALE_PAGES.cursor(Sale(pk=pk, completed_at=moment))})
        self.page("history", "history customer_q=dupont", "/history/", {"customer_q": "dupont"})
        rare = Customer.objects.filter(account=self.account, last_name="Dupont", sales__isnull=False) \
            .order_by("id").first()
        self.page("history", "history customer_q=<one customer's phone>", "/history/",
                  {"customer_q": rare.phone}, expect=rare.last_name)

    def customers(self) -> None:
        from retail.models import Customer
        from retail.selectors.customers import CUSTOMER_PAGES

        print("Customers")
        self.page("customers", "customers list q=dupont", "/customers/", {"q": "dupont"}, expect="Dupont")
        self.page("customers", "customers list q=vidal (last in name order)", "/customers/", {"q": "vidal"},
                  expect="Vidal")
        self.page("customers", "customers list q=léa dupont", "/customers/", {"q": "léa dupont"})
        self.page("customers", "customers list page 1 (no filter)", "/customers/")
        total = Customer.objects.filter(account=self.account).count()
        pages = self.depth(total)
        cursor = self.follow("/customers/", pages)
        self.page("customers", f"customers list page {pages + 1} ({pages * 50:,} deep, followed cursor)",
                  "/customers/", {"after": cursor})
        # The last page, from a cursor built on the customer before it (the list's order: name, id).
        before_last = (Customer.objects.filter(account=self.account).order_by("last_name", "first_name", "id")
                       [total - 51])
        self.page("customers", f"customers list last page ({total - 50:,} deep, built cursor)", "/customers/",
                  {"after": CUSTOMER_PAGES.cursor(before_last)}, expect='rel="prev"')

    def sell(self) -> None:
        from accounts.models import Register
        from retail.models import Product
        from retail.selectors.sell import open_session
        from retail.services.registers import register_open

        print("Sell screen")
        register = Register.objects.filter(account=self.account).order_by("id").first()
        if open_session(self.account, register) is None:
            register_open(actor=self.owner, account=self.account, register_id=register.pk, opening_float=0)
        self.client.post("/sell/register/", {"register": register.pk})
        self.page("sell", "sell screen", "/sell/", expect="search")
        self.page("sell", "sell customer search q=dupont", "/sell/customers/", {"q": "dupont"}, htmx=True,
                  expect="Dupont")
        self.page("sell", "sell customer search q=vidal (last in name order)", "/sell/customers/", {"q": "vidal"},
                  htmx=True, expect="Vidal")
        self.page("sell", "sell product search by name q=chemise", "/sell/search/", {"q": "chemise"}, htmx=True,
                  expect="Chemise")
        self.page("sell", "sell product search by name q=écharpe (last in name order)", "/sell/search/",
                  {"q": "écharpe"}, htmx=True, expect="charpe")
        # Product 4,217 of 10,000 (or as far into a smaller catalogue).
        number = max(1, round(Product.objects.filter(account=self.account).count() * 0.4217))
        sku, barcode = f"SKU-{number:06d}", f"376{number:010d}"
        self.page("sell", f"sell product search by SKU q={sku}", "/sell/search/", {"q": sku}, htmx=True,
                  expect=sku)
        self.page("sell", f"sell product search by barcode q={barcode}", "/sell/search/", {"q": barcode},
                  htmx=True, expect=sku)

    def sale(self) -> None:
        from django.contrib.auth import get_user_model
        from django.test import Client

        from accounts.models import Register
        from retail.models import PaymentType, Product
        from retail.selectors.sell import open_session
        from retail.services.registers import register_open

        print("Selling a 5-line sale on the sell screen (htmx requests, as the cashier clicks)")
        account, owner = self.account, self.owner
        # Another register than the sell cases', in its own browser (the register is remembered per browser).
        register = Register.objects.filter(account=account).order_by("id").last()
        if open_session(account, register) is None:
            register_open(actor=owner, account=account, register_id=register.pk, opening_float=0)
        till = Client(raise_request_exception=True)
        till.force_login(get_user_model().objects.get(pk=owner.pk),
                         backend="django.contrib.auth.backends.ModelBackend")
        till.post("/sell/register/", {"register": register.pk})
        cash = PaymentType.objects.get(account=account, kind=PaymentType.Kind.CASH)
        product_ids = list(Product.objects.filter(account=account, is_active=True, track_inventory=True)
                           .values_list("pk", flat=True))
        rng = random.Random(2026)
        add = Case(group="sale", name="sell add a product to the cart (5 per sale)", target_ms=PAGE_TARGET_MS)
        pay = Case(group="sale", name="sell pay the total in cash", target_ms=PAGE_TARGET_MS)
        complete = Case(group="sale", name="**complete sale** (5-line cart, paid)", target_ms=COMPLETE_SALE_TARGET_MS)

        def answered(response, what: str, expect: str):
            if response.status_code != 200 or expect not in response.content.decode():
                raise AssertionError(f"{what}: {response.status_code}, {expect!r} not in the answer")
            return response.content.decode()

        def one_sale(into: tuple[Case, Case, Case]):
            """Each request the cashier waits for is timed on its own; the cart partial it answers is checked."""
            queries = {}
            for product_id in rng.sample(product_ids, 5):
                data = {"product": product_id, "quantity": rng.randint(1, 3)}
                response, queries[add.name] = self.sample(
                    into[0], lambda data=data: till.post("/sell/lines/add/", data, headers=HTMX))
                cart = answered(response, "add", 'id="pay-amount"')
            # What the pay form offers, as the cashier's browser sends it (the total, in the shop's language).
            amount = html.unescape(re.search(r'id="pay-amount"[^>]* value="([^"]+)"', cart).group(1))
            data = {"payment_type": cash.pk, "amount": amount}
            response, queries[pay.name] = self.sample(into[1], lambda: till.post("/sell/payments/", data,
                                                                                 headers=HTMX))
            answered(response, "pay", "complete-form")
            response, queries[complete.name] = self.sample(into[2], lambda: till.post(
                "/sell/complete/", {"receipt_email": ""}, headers=HTMX))
            answered(response, "complete", "sale-done")
            return queries

        warmup = (Case("", "", 0), Case("", "", 0), Case("", "", 0))
        for _ in range(3):
            one_sale(warmup)
        for _ in range(self.n):
            queries = one_sale((add, pay, complete))
        for case in (add, pay, complete):
            self.report(case, queries[case.name])

    def export(self, tracemalloc: bool) -> list[dict]:
        from django.db import connection
        from django.utils import timezone

        print(f"CSV export (write_file, kind 'sales'), one child process each; target ≥ {EXPORT_TARGET_ROWS_PER_S:,}"
              " rows/s, flat memory")
        shop_today = timezone.localdate(timezone=zoneinfo.ZoneInfo(self.account.timezone))
        yesterday = (shop_today - datetime.timedelta(days=1)).isoformat()
        with connection.cursor() as db:
            # The first day of the ~100,000 newest seeded completed sales (shop time zone).
            db.execute("""SELECT (completed_at AT TIME ZONE %s)::date FROM retail_sale
                          WHERE account_id = %s AND status = 'completed' AND completed_at < current_date
                          ORDER BY completed_at DESC OFFSET 100000 LIMIT 1""",
                       [self.account.timezone, self.account.pk])
            day_100k = (db.fetchone()[0] + datetime.timedelta(days=1)).isoformat()
        # Completed sales up to yesterday: the seeded 1,000,000, not the sales this script completes.
        runs = [{"status": "completed", "date_from": day_100k, "date_to": yesterday},
                {"status": "completed", "date_to": yesterday}]
        results = []
        # "copy": what the worker runs on PostgreSQL (COPY); "portable": the csv-module path (SQLite, inline files).
        for with_tracemalloc in ([False, True] if tracemalloc else [False]):
            for path in ("copy", "portable"):
                for params in runs:
                    results.append(self.export_run(params, path, with_tracemalloc))
        return results

    @staticmethod
    def export_run(params: dict, path: str, with_tracemalloc: bool) -> dict:
        command = [sys.executable, __file__, "--export-child", json.dumps(params), "--export-path", path]
        if with_tracemalloc:
            command.append("--tracemalloc")
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        line = (f"  {path:<8} {result['rows']:>9,} rows in {result['seconds']:6.1f} s = {result['rows_per_s']:>8,.0f}"
                f" rows/s   RSS {result['rss_start_mb']:.1f} MB at start, at most {result['rss_highest_mb']:.1f} MB"
                f" during the export; process peak {result['maxrss_after_mb']:.1f} MB")
        if with_tracemalloc:
            line += f"   tracemalloc peak {result['tracemalloc_peak_mb']:.2f} MB"
        print(line, flush=True)
        return result


def vm_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def export_child(params: dict, path_name: str, with_tracemalloc: bool) -> None:
    """One export in this process: rows, time and memory, as a JSON line on stdout."""
    common.setup_django()
    import dataclasses
    import tracemalloc

    from django.conf import settings

    from accounts.models import Membership
    from posbackoffice import exports

    account = Membership.objects.select_related("account").get(user__email=common.OWNER_EMAIL).account
    kind = exports.REGISTRY.get("sales")
    if path_name == "portable":
        kind = dataclasses.replace(kind, sql_rows=None)
    path = Path(settings.VAR_DIR) / "export-bench.csv"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_start = vm_rss_mb()
    samples = []  # the resident size every 5,000 rows (write_file's progress callback)
    if with_tracemalloc:
        tracemalloc.start()
    start = time.perf_counter()
    rows = exports.write_file(kind, account, params, "fr", path, progress=lambda done: samples.append(vm_rss_mb()))
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if with_tracemalloc else None
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = path.stat().st_size
    path.unlink()
    print(json.dumps({
        "params": params, "path": path_name, "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds,
        "file_mb": size / 2**20, "maxrss_before_mb": before / 1024, "maxrss_after_mb": after / 1024,
        "rss_start_mb": rss_start, "rss_highest_mb": max(samples, default=rss_start),
        "tracemalloc": with_tracemalloc, "tracemalloc_peak_mb": peak / 2**20 if peak is not None else None,
    }))


def load_average() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def machine() -> dict:
    cpus = open("/proc/cpuinfo").read().count("processor\t:")
    model = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    mem_kb = int(re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read()).group(1))
    return {"cpus": cpus, "cpu": model.group(1) if model else "?", "ram_gb": round(mem_kb / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=50, help="repetitions of each case (default 50)")
    parser.add_argument("--only", default=",".join(GROUPS), help="comma-separated groups: " + " ".join(GROUPS))
    parser.add_argument("--explain", type=float, nargs="?", const=SLOW_QUERY_MS, metavar="MS",
                        help=f"EXPLAIN ANALYZE every SELECT above MS ms (default {SLOW_QUERY_MS})")
    parser.add_argument("--sql", action="store_true", help="print the SQL statements of each case's last run")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the (slower) tracemalloc export runs")
    parser.add_argument("--export-child", help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--export-path", default="copy", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(json.loads(args.export_child), args.export_path, args.tracemalloc)
        return

    common.setup_django()
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown groups: {', '.join(sorted(unknown))}")
    assert not settings.DEBUG, "benchmarks run with DEBUG off"
    facts = machine()
    with connection.cursor() as db:
        db.execute("SELECT version(), (SELECT count(*) FROM retail_sale)")
        pg_version, sale_count = db.fetchone()
    print(f"{facts['cpus']} CPUs ({facts['cpu']}), {facts['ram_gb']} GB RAM; {pg_version.split(' on ')[0]}; "
          f"{sale_count:,} sales; N={args.n}; load average {load_average()}")
    bench = Bench(args.n, args.explain, args.sql)
    exports = []
    for group in groups:
        if group == "export":
            exports = bench.export(tracemalloc=not args.no_tracemalloc)
        else:
            getattr(bench, group)()

    print(f"Load average at the end: {load_average()} (other work on the machine shows in the figures).")
    print("\n| Case | p50 ms | p95 ms | DB p50 ms | SQL | Target | Met |\n|---|---:|---:|---:|---:|---|---|")
    for case in bench.cases:
        print(case.row())
    if exports:
        print("\n| Export (kind 'sales', fr) | Rows | Seconds | Rows/s | RSS at start MB | RSS at most MB"
              " | tracemalloc peak MB | Target | Met |\n|---|---:|---:|---:|---:|---:|---:|---|---|")
        for result in exports:
            if result["tracemalloc"]:  # slowed down by tracing: for memory only
                traced, target, met = f"{result['tracemalloc_peak_mb']:.2f}", "flat memory", "see RSS"
            else:
                traced, target = "–", f"≥ {EXPORT_TARGET_ROWS_PER_S:,} rows/s"
                met = "yes" if result["rows_per_s"] >= EXPORT_TARGET_ROWS_PER_S else "**no**"
            print(f"| {result['path']}: {', '.join(f'{k}={v}' for k, v in result['params'].items())}"
                  f"{' (tracemalloc on)' if result['tracemalloc'] else ''} | {result['rows']:,} |"
                  f" {result['seconds']:.1f} | {result['rows_per_s']:,.0f} | {result['rss_start_mb']:.1f} |"
                  f" {result['rss_highest_mb']:.1f} | {traced} | {target} | {met} |")
    out = Path(settings.VAR_DIR) / f"results-{timezone.localtime():%Y-%m-%dT%H%M%S}.json"
    out.write_text(json.dumps({"machine": facts, "load_average_end": load_average(), "postgres": pg_version,
                               "n": args.n,
                               "cases": [asdict(c) | {"p50": c.p(50), "p95": c.p(95)} for c in bench.cases],
                               "exports": exports}, indent=1, default=str))
    print(f"\nRaw figures: {out}")


if __name__ == "__main__":
    main()
