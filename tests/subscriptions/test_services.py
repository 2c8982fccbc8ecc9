"""Staff's changes through the services: plans, pause and resume, both cancels with the customer type,
notes, refunds, the card protection, and bad input refused with nothing changed."""

import datetime

import pytest

from accounts.models import AuditEvent
from payments.models import PaymentSettings
from posbackoffice.errors import DomainError
from retail.models import Sale
from saved_cards import protection
from saved_cards.models import SavedCard
from subscriptions import services
from subscriptions.models import Subscription
from tests.factories import AccountFactory
from tests.saved_cards.builders import card_row
from tests.subscriptions.builders import (
    monthly_box,
    paris,
    payments_of,
    refreshed,
    run_due,
    state,
    subscribe,
    subscriber,
    travel,
)

pytestmark = pytest.mark.django_db
D = datetime.date



@pytest.fixture
def active(shop):
    customer = subscriber(shop)
    with travel(paris(2028, 1, 10)):
        sub = subscribe(shop, customer, monthly_box(shop))
        run_due()
    return refreshed(sub)


def test_pause_then_resume_bills_at_the_next_boundary_without_back_charges(shop, active):
    with travel(paris(2028, 1, 20)):
        services.subscription_pause(actor=shop.actor, account=shop.account, subscription_id=active.pk)
    with travel(paris(2028, 2, 10, 12)):
        run_due()  # paused: never charged
    assert len(payments_of(active)) == 1
    with travel(paris(2028, 3, 20)):
        sub = services.subscription_resume(actor=shop.actor, account=shop.account, subscription_id=active.pk)
    assert sub.status == Subscription.Status.ACTIVE and sub.next_billing_date == D(2028, 4, 10)
    with travel(paris(2028, 3, 25)):
        run_due()
    assert len(payments_of(active)) == 1
    with travel(paris(2028, 4, 10, 3)):
        run_due()
    assert len(payments_of(active)) == 2 and Sale.objects.filter(account=shop.account).count() == 2


def test_cancel_immediately_removes_the_customer_type_now(shop, active):
    with travel(paris(2028, 1, 15)):
        services.subscription_cancel(actor=shop.actor, account=shop.account, subscription_id=active.pk, when="now")
        run_due()
    sub = refreshed(active)
    assert sub.status == Subscription.Status.CANCELLED and sub.due_at is None
    sub.customer.refresh_from_db()
    assert sub.customer.customer_type_id is None
    with travel(paris(2028, 2, 10, 12)):
        run_due()
    assert len(payments_of(sub)) == 1


def test_cancel_at_period_end_stays_active_then_cancels_at_the_boundary(shop, active):
    with travel(paris(2028, 1, 15)):
        services.subscription_cancel(actor=shop.actor, account=shop.account, subscription_id=active.pk,
                                     when="period_end")
    sub = refreshed(active)
    assert sub.status == Subscription.Status.ACTIVE and sub.cancel_at_period_end
    sub.customer.refresh_from_db()
    assert sub.customer.customer_type is not None
    with travel(paris(2028, 2, 10, 0, 30)):
        run_due()
    sub = refreshed(active)
    assert sub.status == Subscription.Status.CANCELLED and len(payments_of(sub)) == 1
    sub.customer.refresh_from_db()
    assert sub.customer.customer_type_id is None


def test_plan_changes_apply_to_future_cycles_only(shop, active):
    plan = active.plan
    services.plan_update(actor=shop.actor, account=shop.account, plan_id=plan.pk, name="Box café+",
                         interval="monthly", lines=[(shop.coffee.pk, 3, 1500)], ships=True,
                         customer_type_name="Abonnés café")
    assert active.cycles.get().amount == 3000
    with travel(paris(2028, 2, 10, 3)):
        run_due()
    assert sorted(active.cycles.values_list("amount", flat=True)) == [3000, 4500]


def test_archived_plan_takes_no_new_subscribers(shop):
    plan = monthly_box(shop)
    services.plan_archive(actor=shop.actor, account=shop.account, plan_id=plan.pk)
    customer = subscriber(shop)
    before = state(shop.account)
    with pytest.raises(DomainError):
        subscribe(shop, customer, plan)
    assert state(shop.account) == before


def test_refund_with_a_reason_never_more_than_paid(shop, active):
    payment = payments_of(active)[0]
    before = state(shop.account)
    for amount, reason in ((3001, "trop"), (100, "  ")):
        with pytest.raises(DomainError):
            services.subscription_refund(actor=shop.actor, account=shop.account, subscription_id=active.pk,
                                         payment_id=payment.pk, amount=amount, reason=reason)
        assert state(shop.account) == before
    refund = services.subscription_refund(actor=shop.actor, account=shop.account, subscription_id=active.pk,
                                          payment_id=payment.pk, amount=1000, reason="Colis abîmé")
    assert refund.status == "succeeded"
    payment.refresh_from_db()
    assert payment.amount_refunded == 1000 and payment.status == "partially_refunded"
    assert AuditEvent.objects.filter(action="subscription.refunded").exists()


def test_notes_are_audited(shop, active):
    services.subscription_notes_update(actor=shop.actor, account=shop.account, subscription_id=active.pk,
                                       notes="Préfère le déca")
    event = AuditEvent.objects.get(action="subscription.notes_changed")
    assert event.after == {"notes": "Préfère le déca"}


def test_the_card_of_a_live_subscription_cannot_be_deleted(shop, active):
    card = SavedCard.objects.get(pk=active.card_id)
    assert protection.reasons(card)
    services.subscription_cancel(actor=shop.actor, account=shop.account, subscription_id=active.pk, when="now")
    assert not protection.reasons(card)


@pytest.mark.parametrize("lines, message", [
    ("empty", "at least one product"),
    ("zero", "at least 1"),
    ("negative", "cannot be negative"),
])
def test_bad_plans_are_refused(shop, lines, message):
    lines = {"empty": [], "zero": [(shop.coffee.pk, 0, None)], "negative": [(shop.coffee.pk, 1, -5)]}[lines]
    before = state(shop.account)
    with pytest.raises(DomainError, match=message):
        services.plan_create(actor=shop.actor, account=shop.account, name="X", interval="monthly", lines=lines)
    assert state(shop.account) == before


def test_another_accounts_product_is_refused(shop):
    other = AccountFactory()
    from tests.retail import report_factories as rf

    foreign = rf.product(rf.make_shop(other, cheque=False), sku="F-1", name="Foreign", price=100, rate_bp=2000)
    with pytest.raises(DomainError):
        services.plan_create(actor=shop.actor, account=shop.account, name="X", interval="monthly",
                             lines=[(foreign.pk, 1, None)])


def test_subscribing_refuses_no_card_an_expired_card_and_a_past_start(shop):
    customer = subscriber(shop)
    plan = monthly_box(shop)
    expired = card_row(customer, last4="0000", exp=(1, 2027))
    before = state(shop.account)
    with travel(paris(2028, 1, 10)):
        for card_id, start in ((None, None), (expired.pk, None), (customer.card.pk, D(2028, 1, 9))):
            with pytest.raises(DomainError):
                services.subscription_create(actor=shop.actor, account=shop.account, customer_id=customer.pk,
                                             plan_id=plan.pk, card_id=card_id, register_id=shop.register.pk,
                                             start_date=start)
            assert state(shop.account) == before


def test_subscriptions_are_refused_under_tyro(shop):
    PaymentSettings.objects.update_or_create(account=shop.account, defaults={"processor": "tyro"})
    customer = subscriber(shop)
    plan = monthly_box(shop)
    with pytest.raises(DomainError, match="Tyro"):
        subscribe(shop, customer, plan)


def test_cancelling_an_expired_subscription_is_refused(shop, active):
    Subscription.objects.filter(pk=active.pk).update(status=Subscription.Status.EXPIRED, due_at=None)
    before = state(shop.account)
    for when in ("now", "period_end"):
        with pytest.raises(DomainError, match="expired"):
            services.subscription_cancel(actor=shop.actor, account=shop.account, subscription_id=active.pk,
                                         when=when)
    assert state(shop.account) == before


def test_another_accounts_subscription_is_not_found(shop, active):
    other = AccountFactory()
    from tests.factories import owner_of

    with pytest.raises(DomainError):
        services.subscription_pause(actor=owner_of(other), account=other, subscription_id=active.pk)
    assert refreshed(active).status == Subscription.Status.ACTIVE
