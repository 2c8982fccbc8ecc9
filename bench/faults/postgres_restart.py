"""PostgreSQL restarted during a billing run (issue 13, "Faults with real processes"): the workers recover
without help, the run completes with the money checked.

    .venv/bin/python bench/faults/postgres_restart.py [--n 2000] [--restarts 1]

Real `celery worker` processes and beat on a private PostgreSQL and redis-server (billing_run.py). Once a
third of the subscriptions is billed (and, with --restarts 2, two thirds), the private cluster is stopped
(`pg_ctl stop -m fast`: every connection is cut, transactions in flight roll back) and started again
`--down` seconds later;
nothing is done to the workers or beat. The tasks that were running fail on their broken connections, the
next ones connect again (Django's connection handling in Celery's task hooks); what was claimed comes back
through beat's sweep once its claim expires. Prints how long the cluster was down and how long until the
billed count moved again, then checks the money (billing_run.BillingRun.report)."""

import time

from billing_run import BillingRun, Spread, options


def main() -> int:
    parser = options(__doc__, n=2_000)
    parser.add_argument("--restarts", type=int, default=1, help="restarts of PostgreSQL during the run (default 1)")
    parser.add_argument("--down", type=float, default=5, help="seconds PostgreSQL stays stopped (default 5)")
    given = parser.parse_args()
    restarts = given.restarts
    with BillingRun(given.n, workers=given.workers, concurrency=given.concurrency) as run:
        run.start()
        restarts_made = Spread(run, restarts)
        done = {"down": [], "billed_at_restart": None, "restarted_at": 0.0, "resumed": []}

        def restart_in_turn(state: dict) -> None:
            if done["billed_at_restart"] is not None:
                if state["billed"] <= done["billed_at_restart"]:
                    return
                done["resumed"].append(run.elapsed() - done["restarted_at"])
                run.note(
                    f"billing moving again: {state['billed']}/{run.n} billed, "
                    f"{done['resumed'][-1]:.0f} s after PostgreSQL came back"
                )
                done["billed_at_restart"] = None
            number = restarts_made.take(state)
            if number is None:
                return
            began = time.perf_counter()
            run.pg.stop()
            time.sleep(given.down)
            run.pg.start()
            done["down"].append(time.perf_counter() - began)
            done["billed_at_restart"], done["restarted_at"] = state["billed"], run.elapsed()
            run.note(
                f"PostgreSQL restarted ({number}/{restarts}) at {state['billed']}/{run.n} billed, "
                f"down {done['down'][-1]:.1f} s; workers and beat left alone"
            )

        run.wait(given.timeout, restart_in_turn)
        status = run.report(
            f"PostgreSQL restarted {restarts} × during the billing run",
            {
                "PostgreSQL restarts (workers not restarted)": restarts_made.made,
                "seconds PostgreSQL was down, each restart": ", ".join(f"{down:.1f}" for down in done["down"]),
                "seconds until the billed count moved again, each restart": ", ".join(
                    f"{resumed:.0f}" for resumed in done["resumed"]
                ),
                "worker log lines naming OperationalError (tasks cut by the restart)": run.log_lines(
                    "OperationalError"
                ),
                "worker processes alive (all still the first ones)": sum(
                    worker is not None and worker.poll() is None for worker in run.workers
                ),
            },
        )
        return restarts_made.status(status)


if __name__ == "__main__":
    raise SystemExit(main())
