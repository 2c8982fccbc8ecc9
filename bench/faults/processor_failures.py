"""The processor failing 20 % of calls during a billing run (issue 13, "Faults with real processes"): every
payment converges to the right state (succeeded with one charge, or failed with none).

    .venv/bin/python bench/faults/processor_failures.py [--n 2000] [--rate 0.2] [--seed 13]

Real `celery worker` processes and beat on a private PostgreSQL and redis-server (billing_run.py), the
workers started with SANDBOX_FAILURE_RATE and SANDBOX_FAILURE_SEED (payments.gateway.sandbox): that share
of every sandbox call fails, each one way at random — a request lost before the processor (a 500), an
answer lost after it charged (a timeout with an unknown outcome), a rate limit (a 429). Charges with an
unknown outcome stay pending; beat's sweeps send them again with the same idempotency key (the
subscription stays due while its cycle's payment is pending) or ask the processor (payments'
reconciliation task). A share of the cards (--declining) is declined by the processor: their payments must
end failed with no charge, their cycles failed (dunning). The run ends when nothing is due and nothing
pending; then the money is checked, including payments' reconciliation against the sandbox
(billing_run.BillingRun.report)."""

from billing_run import BillingRun, options


def main() -> int:
    parser = options(__doc__, n=2_000)
    parser.add_argument("--rate", type=float, default=0.2, help="share of processor calls failing (default 0.2)")
    parser.add_argument("--seed", default="13", help="SANDBOX_FAILURE_SEED (default 13)")
    parser.add_argument(
        "--declining",
        type=float,
        default=0.05,
        help="share of the subscriptions whose card the processor declines (default 0.05)",
    )
    given = parser.parse_args()
    with BillingRun(
        given.n,
        workers=given.workers,
        concurrency=given.concurrency,
        worker_env={"SANDBOX_FAILURE_RATE": str(given.rate), "SANDBOX_FAILURE_SEED": given.seed},
        declining=round(given.n * given.declining),
    ) as run:
        from payments.gateway import sandbox

        run.start()
        run.wait(given.timeout)
        injected = {
            kind: run.log_lines(f"sandbox fault injected: {kind} ")
            for kind in (sandbox.BEFORE, sandbox.AFTER, sandbox.RATE_LIMITED)
        }
        return run.report(
            f"The processor failing {given.rate:.0%} of calls during the billing run",
            {
                "processor calls failed (worker logs)": sum(injected.values()),
                "… request lost before the processor (500)": injected[sandbox.BEFORE],
                "… answer lost after the processor charged (timeout)": injected[sandbox.AFTER],
                "… rate limited (429)": injected[sandbox.RATE_LIMITED],
                "charge tries lost after the processor charged": run.log_lines(
                    f"sandbox fault injected: {sandbox.AFTER} charge_saved_card"
                ),
            },
        )


if __name__ == "__main__":
    raise SystemExit(main())
