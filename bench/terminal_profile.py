"""Card readers (issue 11): what one reader's payment costs the worker, event by event. One sale's card
payment is sent to a simulated reader and the card presented with the sandbox's events held; then each
event is stored (as the webhook endpoint does) and handled in this process, as the worker's task would,
with its SQL statements captured and its CPU time measured. Repeated `BENCH_ROUNDS` times (default 20),
each on its own reader and sale; prints per event type: statements, CPU ms (median), and with `-v` the
statements of the last round.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pos_bench_terminal .venv/bin/python bench/terminal_profile.py [-v]
"""

import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pos_bench_terminal")

from bench.common import setup_django  # noqa: E402
from bench.terminal_readers import ensure_database, paying_reader  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))


def main() -> None:
    verbose = "-v" in sys.argv
    profiler = None
    if "--cprofile" in sys.argv:  # where the CPU goes, over every handled event (cumulative, top 40)
        import cProfile

        profiler = cProfile.Profile()
    ensure_database()
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    from payments.models import WebhookEvent
    from payments.sandbox import events
    from payments.sandbox import terminal as device
    from payments.sandbox.models import SandboxEvent
    from payments.webhook_events import webhook_event_handle
    from posbackoffice import jobs
    from terminal.models import ReaderAction
    from tests.factories import AccountFactory, UserFactory

    jobs.enqueue = lambda *args, **kwargs: None  # the events are handled below, in this process
    run = f"{time.time():.0f}"
    account = AccountFactory(name=f"Bench profile {run}", owner=UserFactory(email=f"owner-p{run}@bench.test"))
    statements, cpu, wall = defaultdict(list), defaultdict(list), defaultdict(list)
    last = {}
    for number in range(ROUNDS):
        reader, action, _cashier = paying_reader(account, f"Profile {run}-{number}")
        first = SandboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        started = time.process_time()
        with events.hold_events():
            device.reader_present_card(reader_id=reader.processor_reader_id, number="4242424242424242")
        cpu["the card presented (the processor's side)"].append((time.process_time() - started) * 1000)
        held = list(SandboxEvent.objects.filter(pk__gt=first, delivered_at__isnull=True).order_by("pk"))
        for held_event in held:
            started = time.process_time()
            events.event_deliver(event_pk=held_event.pk)  # stored and its task queued (eager: not run here)
            cpu["an event delivered (signed, received, stored, queued)"].append((time.process_time() - started) * 1000)
            stored = WebhookEvent.objects.get(event_id=held_event.event_id)
            if stored.processed_at:
                continue
            with CaptureQueriesContext(connection) as captured:
                if profiler is not None:
                    profiler.enable()
                started, wall_started = time.process_time(), time.perf_counter()
                webhook_event_handle(event_id=stored.pk)
                spent = time.process_time() - started
                wall[held_event.type].append((time.perf_counter() - wall_started) * 1000)
                if profiler is not None:
                    profiler.disable()
            statements[held_event.type].append(len(captured))
            cpu[held_event.type].append(spent * 1000)
            last[held_event.type] = [query["sql"] for query in captured.captured_queries]
        assert ReaderAction.objects.get(pk=action.pk).status == "succeeded", "the action did not end"
    total_statements = sum(statistics.median(values) for values in statements.values())
    total_cpu = sum(statistics.median(cpu[kind]) for kind in statements)
    for kind in statements:
        print(f"{kind}: {statistics.median(statements[kind]):.0f} statements, CPU median "
              f"{statistics.median(cpu[kind]):.1f} ms, wall {statistics.median(wall[kind]):.1f} ms "
              f"(n={len(cpu[kind])})")
    print(f"per payment: {total_statements:.0f} statements, {total_cpu:.1f} ms CPU "
          "(this process; PostgreSQL's not counted)")
    for kind in cpu.keys() - statements.keys():  # before the worker: the processor's side, our webhook view
        print(f"{kind}: CPU median {statistics.median(cpu[kind]):.1f} ms (n={len(cpu[kind])})")
    if profiler is not None:
        import pstats

        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(45)
    if verbose:
        for kind, queries in last.items():
            print(f"\n--- {kind}")
            for sql in queries:
                print("  ", sql[:220])


if __name__ == "__main__":
    main()
