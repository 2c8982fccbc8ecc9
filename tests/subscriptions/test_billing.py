"""The billing cycle through the services, the sandbox processor and time travel: the first charge, the
sale and fulfilment of each paid cycle, month ends, retries at +3/+5/+7 days then none, a manual retry,
a card change, scheduled starts, fixed durations, an account on hold, duplicate runs."""

import datetime

import pytest

from accounts.models import OutgoingEmail
from payments.models import Payment
from retail.models import Fulfilment, Sale
from subscriptions import billing, services
from subscriptions.models import Subscription, SubscriptionCycle
from tests.factories import suspend
from tests.saved_cards.builders import save_card
from tests.subscriptions.builders import (
    DECLINES_WHEN_CHARGED,
    monthly_box,
    paris,
    payments_of,
    refreshed,
    run_due,
    subscribe,
    subscriber,
    succeeds,
    travel,
)

pytestmark = pytest.mark.django_db
D = datetime.date



def test_subscribing_charges_the_first_cycle_and_makes_its_sale_and_fulfilment(shop):
    customer = subscriber(shop)
    plan = monthly_box(shop)
    with travel(paris(2028, 1, 31, 15)):
        sub = subscribe(shop, customer, plan)
        assert sub.status == Subscription.Status.SCHEDULED
        customer.refresh_from_db()
        assert customer.customer_type.name == "Abonnés café"
        payment = billing.bill(sub.pk)
    assert payment.status == Payment.Status.SUCCEEDED and payment.amount == 3000
    assert payment.mode == Payment.Mode.RECURRING and payment.customer_id == customer.pk
    sub = refreshed(sub)
    assert sub.status == Subscription.Status.ACTIVE
    assert sub.next_billing_date == D(2028, 2, 29)
    sale = Sale.objects.get(account=shop.account)
    assert sale.status == Sale.Status.COMPLETED and sale.customer_id == customer.pk
    assert sale.register_id == shop.register.pk and sale.total == 3000 and sale.paid_total == 3000
    lines = [(line.product_id, line.quantity, line.unit_price) for line in sale.lines.all()]
    assert lines == [(shop.coffee.pk, 2, 1500)]
    assert Fulfilment.objects.get(sale=sale).source == "subscription"
    assert OutgoingEmail.objects.filter(recipients=["camille@exemple.fr"],
                                        subject="Votre abonnement Box café chez Boutique Test").exists()


def test_a_renewal_is_recorded_while_a_cashier_has_a_cart_open_on_its_register(shop):
    """Found by the randomized integrity run (tests/integrity/): the renewal's sale was first written open, and
    the register's cart in progress (one open sale per register) refused it, so the charged cycle never
    settled while the cashier kept the cart open."""
    from tests.retail import report_factories as rf

    customer = subscriber(shop)
    plan = monthly_box(shop, ships=False)
    rf.open_register(shop)
    cart = rf.leave_in_progress(shop, [(shop.fee, 1)])
    sub = subscribe(shop, customer, plan)

    payment = billing.bill(sub.pk)

    assert payment.status == Payment.Status.SUCCEEDED and refreshed(sub).status == Subscription.Status.ACTIVE
    renewal = Sale.objects.get(account=shop.account, status=Sale.Status.COMPLETED)
    assert (renewal.register_id, renewal.paid_total, renewal.customer_id) == (shop.register.pk, 3000, customer.pk)
    cart.refresh_from_db()
    assert (cart.status, cart.total, cart.paid_total) == (Sale.Status.OPEN, 500, 0)


def test_month_end_renewals_and_one_sale_per_cycle(shop):
    customer = subscriber(shop)
    plan = monthly_box(shop, ships=False)
    with travel(paris(2028, 1, 31, 9)):
        sub = subscribe(shop, customer, plan)
        run_due()
    with travel(paris(2028, 2, 28, 23, 30)):
        run_due()  # not yet: 29 February in Paris
    assert Sale.objects.filter(account=shop.account).count() == 1
    with travel(paris(2028, 2, 29, 0, 5)):
        run_due()
        run_due()  # a second sweep finds nothing due
    assert refreshed(sub).next_billing_date == D(2028, 3, 31)
    with travel(paris(2028, 3, 31, 6)):
        run_due()
    assert refreshed(sub).next_billing_date == D(2028, 4, 30)
    assert [c.period_start for c in SubscriptionCycle.objects.filter(subscription=sub).order_by("period")] == [
        D(2028, 1, 31), D(2028, 2, 29), D(2028, 3, 31)]
    assert Sale.objects.filter(account=shop.account).count() == 3
    assert len(payments_of(sub)) == 3


def test_a_claimed_subscription_is_not_billed_twice(shop):
    customer = subscriber(shop)
    with travel(paris(2028, 5, 3)):
        sub = subscribe(shop, customer, monthly_box(shop))
        from posbackoffice import jobs

        held = jobs.claim(Subscription, sub.pk, seconds=120, due=billing._due(paris(2028, 5, 3)))
        assert held is not None
        assert billing.bill(sub.pk) is None  # another worker holds it
        held.release()
        billing.bill(sub.pk)
        assert billing.bill(sub.pk) is None  # paid: not due any more
    assert len(payments_of(sub)) == 1


def test_failure_then_retries_at_3_5_7_days_then_none(shop):
    customer = subscriber(shop, number=DECLINES_WHEN_CHARGED)
    plan = monthly_box(shop)
    with travel(paris(2028, 3, 1)):
        sub = subscribe(shop, customer, plan)
        run_due()
    sub = refreshed(sub)
    assert sub.status == Subscription.Status.OVERDUE
    cycle = SubscriptionCycle.objects.get(subscription=sub)
    assert cycle.next_retry_on == D(2028, 3, 4)
    assert not Sale.objects.filter(account=shop.account).exists()
    for day, next_retry in ((4, D(2028, 3, 6)), (6, D(2028, 3, 8)), (8, None)):
        with travel(paris(2028, 3, day - 1, 23)):
            run_due()  # the day before: nothing
        with travel(paris(2028, 3, day, 1)):
            run_due()
        cycle.refresh_from_db()
        assert cycle.next_retry_on == next_retry
    assert cycle.failures == 4 and len(payments_of(sub)) == 4
    with travel(paris(2028, 3, 20)):
        run_due()  # no 4th retry
    assert len(payments_of(sub)) == 4
    assert refreshed(sub).status == Subscription.Status.OVERDUE and sub.due_at is None
    assert not Sale.objects.filter(account=shop.account).exists()
    # Retry by hand once the customer's card works again: Active, the sale and the shipping slip.
    succeeds(customer.card)
    with travel(paris(2028, 3, 21)):
        payment = billing.subscription_retry(actor=shop.actor, account=shop.account, subscription_id=sub.pk)
    assert payment.status == Payment.Status.SUCCEEDED
    sub = refreshed(sub)
    assert sub.status == Subscription.Status.ACTIVE and sub.next_billing_date == D(2028, 4, 1)
    sale = Sale.objects.get(account=shop.account)
    assert Fulfilment.objects.filter(sale=sale).exists()


def test_success_at_a_retry_restores_active(shop):
    customer = subscriber(shop, number=DECLINES_WHEN_CHARGED)
    with travel(paris(2028, 3, 1)):
        sub = subscribe(shop, customer, monthly_box(shop))
        run_due()
    succeeds(customer.card)
    with travel(paris(2028, 3, 4, 2)):
        run_due()
    sub = refreshed(sub)
    assert sub.status == Subscription.Status.ACTIVE and sub.next_billing_date == D(2028, 4, 1)
    assert Sale.objects.filter(account=shop.account).count() == 1


def test_a_card_change_charges_again(shop):
    customer = subscriber(shop, number=DECLINES_WHEN_CHARGED)
    with travel(paris(2028, 3, 1)):
        sub = subscribe(shop, customer, monthly_box(shop))
        run_due()
    new_card = save_card(customer, number="5555555555554444")
    with travel(paris(2028, 3, 2)):
        services.subscription_card_change(actor=shop.actor, account=shop.account, subscription_id=sub.pk,
                                          card_id=new_card.pk)
        run_due()
    assert refreshed(sub).status == Subscription.Status.ACTIVE
    assert payments_of(sub)[-1].card_last4 == "4444"


def test_hard_decline_skips_the_retries_and_sends_the_card_update_link(shop):
    customer = subscriber(shop)
    with travel(paris(2028, 3, 1)):
        sub = subscribe(shop, customer, monthly_box(shop))
        sub = Subscription.objects.get(pk=sub.pk)
        payment_id = billing.cycle_prepare(subscription_id=sub.pk, now=paris(2028, 3, 1))
        from payments.services.settling import payment_settle

        Payment.objects.filter(pk=payment_id).update(failure_code="")
        from payments.gateway.errors import CardDeclined

        payment_settle(payment_id=payment_id, error=CardDeclined("lost", code="card_declined",
                                                                  decline_code="lost_card"))
    cycle = SubscriptionCycle.objects.get(subscription=sub)
    assert cycle.next_retry_on is None and "lost_card" in cycle.dunning_note
    assert refreshed(sub).due_at is None
    from saved_cards.models import CardInvite

    invite = CardInvite.objects.get(customer=customer, kind=CardInvite.Kind.EMAIL)
    subjects = sorted(OutgoingEmail.objects.filter(recipients=[invite.sent_to]).values_list("subject", flat=True))
    assert subjects == ["Ajoutez ou mettez à jour votre carte de paiement pour Boutique Test",
                        "Votre abonnement Box café chez Boutique Test"]  # the shop's language


def test_a_customer_who_reads_english_gets_the_subscription_e_mails_in_english(shop):
    customer = subscriber(shop, language="en")  # the shop (Boutique Test) reads French
    with travel(paris(2028, 3, 1)):
        sub = subscribe(shop, customer, monthly_box(shop))
        sub = Subscription.objects.get(pk=sub.pk)
        payment_id = billing.cycle_prepare(subscription_id=sub.pk, now=paris(2028, 3, 1))
        from payments.gateway.errors import CardDeclined
        from payments.services.settling import payment_settle

        payment_settle(payment_id=payment_id, error=CardDeclined("lost", code="card_declined",
                                                                  decline_code="lost_card"))
    subjects = sorted(OutgoingEmail.objects.filter(recipients=[customer.email]).values_list("subject", flat=True))
    assert subjects == ["Add or update your payment card for Boutique Test",
                        "Your subscription to Box café at Boutique Test"]


def test_scheduled_start_fixed_duration_then_expired(shop):
    customer = subscriber(shop)
    plan = monthly_box(shop, interval="weekly", duration_intervals=2)
    with travel(paris(2028, 6, 1)):
        sub = subscribe(shop, customer, plan, start_date=D(2028, 6, 5))
        run_due()
    assert refreshed(sub).status == Subscription.Status.SCHEDULED and not payments_of(sub)
    with travel(paris(2028, 6, 5, 0, 1)):
        run_due()
    assert refreshed(sub).status == Subscription.Status.ACTIVE
    with travel(paris(2028, 6, 12, 8)):
        run_due()
    with travel(paris(2028, 6, 19, 8)):
        run_due()
    sub = refreshed(sub)
    assert sub.status == Subscription.Status.EXPIRED and len(payments_of(sub)) == 2
    customer.refresh_from_db()
    assert customer.customer_type_id is None


def test_an_account_on_hold_charges_nothing(shop):
    customer = subscriber(shop)
    with travel(paris(2028, 3, 1)):
        sub = subscribe(shop, customer, monthly_box(shop))
        suspend(shop.account)
        run_due()
    assert not payments_of(sub)
    assert refreshed(sub).status == Subscription.Status.SCHEDULED


def test_a_charge_left_pending_is_sent_again_with_its_own_key(shop):
    """A worker killed after making the payment row: the next run charges that same payment."""
    customer = subscriber(shop)
    with travel(paris(2028, 3, 1)):
        sub = subscribe(shop, customer, monthly_box(shop))
        payment_id = billing.cycle_prepare(subscription_id=sub.pk, now=paris(2028, 3, 1))
    with travel(paris(2028, 3, 1, 10, 5)):
        run_due()
    assert [p.pk for p in payments_of(sub)] == [payment_id]
    assert Payment.objects.get(pk=payment_id).status == Payment.Status.SUCCEEDED
    assert Sale.objects.filter(account=shop.account).count() == 1


def test_a_declined_retry_tries_the_backup_card_when_the_merchant_allows_it(shop):
    services.settings_update(actor=shop.actor, account=shop.account, send_confirmation=True, use_backup_card=True)
    customer = subscriber(shop, number=DECLINES_WHEN_CHARGED)
    with travel(paris(2028, 3, 1)):
        sub = subscribe(shop, customer, monthly_box(shop))
        backup = save_card(customer, number="5555555555554444")
        run_due()  # the first try: no backup (only a retry falls back)
    primary = customer.card.payment_method_id
    assert [p.payment_method_id for p in payments_of(sub)] == [primary]
    with travel(paris(2028, 3, 4, 2)):
        run_due()  # the retry declines on the subscription's card, the backup card pays
    assert [p.payment_method_id for p in payments_of(sub)] == [primary, primary, backup.payment_method_id]
    assert payments_of(sub)[-1].card_last4 == "4444"
    sub = refreshed(sub)
    assert sub.status == Subscription.Status.ACTIVE
    assert Sale.objects.filter(account=shop.account).count() == 1
