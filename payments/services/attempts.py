"""What every conversation with the processor about a payment shares: the gateway of its payee, the
attempt's lease (one caller talks to the processor about an attempt at a time), inline retries with the
same key, and the payment's row lock."""

import time

from django.db.models import Q

from payments.gateway import get_gateway
from payments.gateway.errors import ProcessorUnavailable
from payments.models import Payment, PaymentAttempt
from posbackoffice import jobs

# Inline retries of a call whose outcome is unknown (timeout, 5xx, 429), always with the same key;
# after these the payment stays pending and the reconciliation task takes over.
RETRY_DELAYS = (0.3, 1.0)
# Stripe keeps idempotency keys for 24 hours: a charge is sent again with its key only within that time.
RESEND_WITHIN_SECONDS = 23 * 3600
# Whoever talks to the processor about an attempt holds it this long: more than a call with its inline
# retries (the Stripe adapter gives a call 30 s). A holder that died is replaced once it expires.
ATTEMPT_LEASE_SECONDS = 120
OPEN_OUTCOMES = (PaymentAttempt.Outcome.PENDING, PaymentAttempt.Outcome.REQUIRES_ACTION)


def _payment_state(payment: Payment) -> dict:
    return {"status": payment.status, "amount": payment.amount, "amount_refunded": payment.amount_refunded,
            "requires_action": payment.requires_action, "failure_code": payment.failure_code}


def _gateway(payment: Payment):
    """The one place the services ask for a processor (tests replace `get_gateway` here)."""
    return get_gateway(payment.payee)


def _lock_payment(payment_id: int) -> Payment:
    """The payment's row only (`of=("self",)`): a FOR UPDATE over the join would lock the account's row
    too, which every settlement of the account shares — under many readers settling at once that row
    serialised them and, taken in the same statement as the payment's row, deadlocked two settlements of
    one payment (docs/architecture.md, "Lock order"). Its creator comes with it: the audit row and the
    sale's payment name them (one statement fewer per settlement)."""
    return Payment.objects.select_for_update(of=("self",)).select_related("account", "created_by").get(pk=payment_id)


def _holding(attempt: PaymentAttempt, row, work):
    """Run `work()` holding the attempt (one conversation with the processor about it at a time);
    answer `row` unchanged while someone else holds it."""
    claim = jobs.claim(PaymentAttempt, attempt.pk, seconds=ATTEMPT_LEASE_SECONDS, due=Q(outcome__in=OPEN_OUTCOMES))
    if claim is None:
        return row
    try:
        return work()
    finally:
        claim.release()


def _with_retries(call, *, inline: bool = True):
    """Run a gateway call; on an unknown outcome try again with the same key, then give up (pending).
    Only in a person's request (`inline`): a task never sleeps, it leaves the attempt to the next sweep."""
    for delay in (*RETRY_DELAYS, None) if inline else (None,):
        try:
            return call()
        except ProcessorUnavailable:
            if delay is None:
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")
