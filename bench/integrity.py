"""The money-integrity run, long: the Hypothesis state machine of tests/integrity/ for STEPS steps (10,000
by default), new random sequences each run, on PostgreSQL with the sandbox processor. Prints the steps run,
the faults injected, the webhooks delivered and forged, the discrepancies found (must be 0), the wall-clock
and CPU time (this process and PostgreSQL are counted apart: the load average is printed beside them).

    make -C bench integrity                     # 10,000 steps, database test_pos_bench_integrity
    make -C bench integrity ARGS="--steps 2000"
"""

import argparse
import ast
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--steps-per-run", type=int, default=100, help="steps before a new shop is set up")
    args = parser.parse_args()
    env = {**os.environ, "INTEGRITY_STEPS": str(args.steps), "INTEGRITY_STEPS_PER_RUN": str(args.steps_per_run),
           "INTEGRITY_RANDOM": "1"}
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pos_bench_integrity")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/10")
    env.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")
    load_before, started = os.getloadavg()[0], time.monotonic()
    done = subprocess.run([str(ROOT / ".venv/bin/pytest"), "tests/integrity/test_money_integrity.py", "-q", "-s",
                           "-p", "no:randomly", "--create-db"], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = re.search(r"^integrity: (\{.*\})$", done.stdout, re.MULTILINE)
    counts = ast.literal_eval(found.group(1)) if found else {}
    if done.returncode != 0 or not counts:
        sys.stdout.write(done.stdout[-6000:] + done.stderr[-3000:])
    steps = counts.get("steps", 0)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"integrity: {steps} steps in {counts.get('runs', 0)} runs (new shop each), "
          f"{counts.get('faults', 0)} faults injected ({counts.get('fault:500', 0)} processor 500, "
          f"{counts.get('fault:timeout', 0)} timeouts with unknown outcome, {counts.get('fault:crash', 0)} crashes "
          f"between our row and the answer), {counts.get('webhooks', 0)} webhook deliveries (reordered, "
          f"duplicated), {counts.get('forged', 0)} forged webhooks refused, "
          f"{counts.get('discrepancies', 0)} discrepancies; pytest {'passed' if done.returncode == 0 else 'FAILED'}")
    print(f"wall {wall:.0f} s ({1000 * wall / max(steps, 1):.0f} ms a step); CPU of the test process "
          f"{cpu:.0f} s ({1000 * cpu / max(steps, 1):.0f} ms a step, PostgreSQL not included); "
          f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
