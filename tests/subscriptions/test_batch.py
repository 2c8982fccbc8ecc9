"""The batched billing run (subscriptions.batch.bill_many, what a worker runs for a message of many ids):
the same outcomes as billing.bill row by row for a batch of mixed fates, exactly one sale per paid cycle
and none for a failed one, and a worker dying between the claim and the settlement (before the charges,
or after them) never charging twice nor losing a sale."""

import datetime

import pytest

from accounts.models import AuditEvent, OutgoingEmail
from payments.models import Payment, PaymentAttempt
from payments.sandbox.models import CardBehaviour, SandboxPaymentIntent, SandboxPaymentMethod
from payments.services import batch as payment_batch
from payments.services.charges import charge_key
from retail.models import Fulfilment, Sale, SaleLine
from saved_cards.models import SavedCard
from subscriptions import batch, billing
from subscriptions.models import Subscription, SubscriptionCycle
from tests.subscriptions.builders import (
    DECLINES_WHEN_CHARGED,
    monthly_box,
    paris,
    payments_of,
    refreshed,
    subscribe,
    subscriber,
    succeeds,
    travel,
)

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """The worker process dies here (nothing after it runs, no except clause catches it)."""


def charges(payment: Payment) -> int:
    return SandboxPaymentIntent.objects.filter(idempotency_key=charge_key(payment)).count()


def mixed_batch(shop, tag: str) -> dict[str, Subscription]:
    """Subscriptions due together with every fate: paid (a scheduled start, and a shipped one whose
    customer has no address), a soft decline, a hard decline, a card expired on our side."""
    box = monthly_box(shop, name=f"Box {tag}")
    plain = monthly_box(shop, name=f"Plain {tag}", ships=False, customer_type_name=None)

    def customer(role: str, **fields):
        return subscriber(shop, first_name=f"{tag}-{role}", email=f"{tag}-{role}@exemple.fr", **fields)

    subs = {
        "paid": subscribe(shop, customer("paid"), box),
        "no_address": subscribe(shop, customer("no_address", address_line1="", city=""), box),
        "soft": subscribe(shop, customer("soft", number=DECLINES_WHEN_CHARGED), plain),
        "hard": subscribe(shop, customer("hard"), plain),
        "expired": subscribe(shop, customer("expired"), plain),
    }
    SandboxPaymentMethod.objects.filter(pk=subs["hard"].card.payment_method_id).update(
        behaviour=CardBehaviour.EXPIRED_CARD)
    SavedCard.objects.filter(pk=subs["expired"].card_id).update(exp_year=2027, expires_on=datetime.date(2027, 12, 31))
    return subs


def outcome(sub: Subscription, tag: str) -> str:
    """Everything a renewal changes about one subscription, without the ids and names that differ."""
    return repr(_outcome(refreshed(sub))).replace(tag, "TAG")


def _outcome(sub: Subscription) -> tuple:
    payments = payments_of(sub)
    sales = Sale.objects.filter(customer_id=sub.customer_id).order_by("pk")
    return (
        sub.status, sub.cycles_billed, sub.next_period, sub.next_billing_date, sub.due_at, sub.lease_until,
        list(SubscriptionCycle.objects.filter(subscription=sub).order_by("period").values_list(
            "period", "period_start", "period_end", "amount", "lines", "status", "tries", "failures",
            "first_failed_on", "next_retry_on", "dunning_note", "fulfilment_note", "sale__total")),
        [(p.status, p.failure_code, p.amount, p.method, p.mode, p.payment_method_id == sub.card.payment_method_id,
          p.card_last4, p.payout_status, p.outlet_id, p.register_id, p.description) for p in payments],
        [(s.status, s.total, s.paid_total, s.tax_total, s.register_id, s.customer_type_name, s.note,
          list(SaleLine.objects.filter(sale=s).values_list("product_id", "quantity", "unit_price", "line_total")),
          [(amount, [p.pk for p in payments].index(paid_by)) for amount, paid_by in
           s.payments.values_list("amount", "processor_payment_id")]) for s in sales],
        Fulfilment.objects.filter(sale__in=sales).count(),
        sorted(AuditEvent.objects.filter(object_type="subscriptions.subscription", object_id=str(sub.pk))
               .values_list("action", flat=True)),
        sorted(AuditEvent.objects.filter(object_type="payments.payment", object_id__in=[str(p.pk) for p in payments])
               .values_list("action", flat=True)),
        sorted(AuditEvent.objects.filter(object_type="retail.sale", object_id__in=[str(s.pk) for s in sales])
               .values_list("action", flat=True)),
        sorted(OutgoingEmail.objects.filter(recipients=[sub.customer.email]).values_list("subject", flat=True)),
    )


def test_a_batch_of_mixed_fates_ends_as_row_by_row_billing_does(shop):
    with travel(paris(2028, 1, 10, 9)):
        one_by_one, batched = mixed_batch(shop, "single"), mixed_batch(shop, "batch")
    with travel(paris(2028, 1, 10, 10)):
        for sub in one_by_one.values():
            billing.bill(sub.pk)
        batch.bill_many([sub.pk for sub in batched.values()])
    for role in one_by_one:
        assert outcome(one_by_one[role], "single") == outcome(batched[role], "batch"), role

    # Exactly one sale per paid cycle, none for a failed one.
    paid = SubscriptionCycle.objects.filter(subscription__in=batched.values(), status=SubscriptionCycle.Status.PAID)
    assert {cycle.subscription_id for cycle in paid} == {batched["paid"].pk, batched["no_address"].pk}
    for cycle in paid:
        sale = Sale.objects.get(customer_id=cycle.subscription.customer_id)
        assert sale.pk == cycle.sale_id and sale.payments.get().processor_payment_id == cycle.payment_id
    for role in ("soft", "hard", "expired"):
        assert not Sale.objects.filter(customer_id=batched[role].customer_id).exists()
    assert refreshed(batched["soft"]).status == Subscription.Status.OVERDUE
    assert SubscriptionCycle.objects.get(subscription=batched["hard"]).next_retry_on is None

    # Three days later the soft decline's retry is due (its cycle exists: the row-by-row path inside the
    # batch) and the card now pays.
    succeeds(one_by_one["soft"].card)
    succeeds(batched["soft"].card)
    with travel(paris(2028, 1, 13, 10)):
        for pk in billing.due_ids():
            if pk in {sub.pk for sub in one_by_one.values()}:
                billing.bill(pk)
        batch.bill_many(billing.due_ids())
    for role in one_by_one:
        assert outcome(one_by_one[role], "single") == outcome(batched[role], "batch"), role
    assert refreshed(batched["soft"]).status == Subscription.Status.ACTIVE
    assert Sale.objects.filter(customer_id=batched["soft"].customer_id).count() == 1


def due_batch(shop, count: int = 3) -> list[Subscription]:
    plan = monthly_box(shop, ships=False)
    with travel(paris(2028, 3, 1, 9)):
        return [subscribe(shop, subscriber(shop, first_name=f"Client{n}"), plan) for n in range(count)]


def killed_in(monkeypatch, module, name: str, ids: list[int]) -> None:
    """Run the batch with its worker dying when it calls `module.name`."""
    def killed(**_arguments):
        raise WorkerKilled

    monkeypatch.setattr(module, name, killed)
    with travel(paris(2028, 3, 1, 10)), pytest.raises(WorkerKilled):
        batch.bill_many(ids)


def test_a_worker_dying_after_the_charges_never_charges_twice_and_the_next_run_makes_the_sales(shop, monkeypatch):
    subs = due_batch(shop)
    ids = [sub.pk for sub in subs]
    killed_in(monkeypatch, payment_batch, "payments_settle_many", ids)
    payments = list(Payment.objects.filter(purpose=Payment.Purpose.SUBSCRIPTION_CYCLE).order_by("pk"))
    assert len(payments) == 3 and all(payment.status == Payment.Status.PENDING for payment in payments)
    assert all(charges(payment) == 1 for payment in payments)  # the processor took every charge
    assert not Sale.objects.filter(account=shop.account).exists()

    # The dead worker still held its claims: another run finds nothing to do until they expire.
    with travel(paris(2028, 3, 1, 10, 1)):
        Subscription.objects.filter(pk__in=ids).update(lease_until=paris(2028, 3, 1, 10, 2))
        assert batch.bill_many(ids) == []
    monkeypatch.undo()
    with travel(paris(2028, 3, 1, 10, 5)):
        charged = batch.bill_many(ids)
    assert sorted(payment.pk for payment in charged) == [payment.pk for payment in payments]  # the same tries
    assert Payment.objects.filter(purpose=Payment.Purpose.SUBSCRIPTION_CYCLE).count() == 3
    for payment in payments:
        payment.refresh_from_db()
        assert payment.status == Payment.Status.SUCCEEDED and charges(payment) == 1
        assert Sale.objects.get(payments__processor_payment_id=payment.pk).total == payment.amount
    assert Sale.objects.filter(account=shop.account).count() == 3
    assert all(refreshed(sub).cycles_billed == 1 and refreshed(sub).lease_until is None for sub in subs)


def test_a_worker_dying_before_the_charges_leaves_pending_payments_charged_once_later(shop, monkeypatch):
    subs = due_batch(shop)
    ids = [sub.pk for sub in subs]
    killed_in(monkeypatch, batch, "payments_charge_many", ids)
    payments = list(Payment.objects.filter(purpose=Payment.Purpose.SUBSCRIPTION_CYCLE))
    assert len(payments) == 3 and not any(charges(payment) for payment in payments)
    monkeypatch.undo()
    with travel(paris(2028, 3, 1, 10, 5)):
        batch.bill_many(ids)
    assert Payment.objects.filter(purpose=Payment.Purpose.SUBSCRIPTION_CYCLE,
                                  status=Payment.Status.SUCCEEDED).count() == 3
    assert all(charges(payment) == 1 for payment in payments)
    assert Sale.objects.filter(account=shop.account).count() == 3


def test_a_settlement_refused_for_one_payment_holds_back_only_that_one(shop, monkeypatch):
    """A handler raising for one payment of the batch (here: its sale cannot be recorded): the batch is
    settled one by one, the others get their sales, that one stays pending for the reconciliation."""
    subs = due_batch(shop)
    from retail.services import recurring

    record = recurring.sales_record_paid

    def refuses_the_second(*, account, sales):
        if any(paid.customer_id == subs[1].customer_id for paid in sales):
            raise RuntimeError("the sale cannot be recorded")
        return record(account=account, sales=sales)

    monkeypatch.setattr(billing, "sales_record_paid", refuses_the_second)
    with travel(paris(2028, 3, 1, 10)), pytest.raises(RuntimeError):
        batch.bill_many([sub.pk for sub in subs])
    assert [payment.status for payment in payments_of(subs[0])] == [Payment.Status.SUCCEEDED]
    assert [payment.status for payment in payments_of(subs[1])] == [Payment.Status.PENDING]
    assert [payment.status for payment in payments_of(subs[2])] == [Payment.Status.SUCCEEDED]
    assert Sale.objects.filter(account=shop.account).count() == 2
    assert not Sale.objects.filter(customer_id=subs[1].customer_id).exists()
    assert PaymentAttempt.objects.get(payment=payments_of(subs[1])[0]).lease_until is None


def test_a_duplicated_message_bills_nothing_twice(shop):
    subs = due_batch(shop)
    ids = [sub.pk for sub in subs]
    with travel(paris(2028, 3, 1, 10)):
        assert len(batch.bill_many(ids)) == 3
        assert batch.bill_many(ids + ids) == []  # billed: not due any more
    assert Payment.objects.filter(purpose=Payment.Purpose.SUBSCRIPTION_CYCLE).count() == 3
    assert Sale.objects.filter(account=shop.account).count() == 3
