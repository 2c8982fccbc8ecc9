"""10 × SIGKILL of a worker during a billing run of 10,000 due subscriptions (issue 13, "Faults with real
processes"): 0 double charges, 0 missing sales.

    .venv/bin/python bench/faults/billing_kill.py [--n 10000] [--kills 10]

Real `celery worker` processes and beat on a private PostgreSQL and redis-server (billing_run.py). Each
time another tenth of the subscriptions is billed, one worker (in turn) and its pool processes get SIGKILL
and a new worker is started in its place: what they held stays claimed until the claim expires
(subscriptions.billing.CLAIM_SECONDS), and their unacknowledged messages wait for the broker's visibility
timeout, so the rows come back through beat's sweep. Then the money is checked (billing_run.BillingRun.report)."""

from billing_run import BillingRun, Spread, options


def main() -> int:
    parser = options(__doc__, n=10_000)
    parser.add_argument("--kills", type=int, default=10, help="workers killed during the run (default 10)")
    given = parser.parse_args()
    kills = given.kills
    with BillingRun(given.n, workers=given.workers, concurrency=given.concurrency) as run:
        run.start()
        kills_made = Spread(run, kills)

        def kill_in_turn(state: dict) -> None:
            number = kills_made.take(state)
            if number is None:
                return
            index = (number - 1) % run.worker_count
            run.kill_worker(index)
            run.note(
                f"SIGKILL {number}/{kills} to worker {index} at {state['billed']}/{run.n} billed "
                f"({state['pending']} payments pending); restarted"
            )

        run.wait(given.timeout, kill_in_turn)
        status = run.report(
            f"{kills} × SIGKILL of a worker during the billing run",
            {"workers killed (SIGKILL) and restarted": kills_made.made},
        )
        return kills_made.status(status)


if __name__ == "__main__":
    raise SystemExit(main())
