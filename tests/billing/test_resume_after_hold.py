"""Seed 000's promise, end to end through billing's own hold and reactivation: what the hold stopped — a
customer's subscription and a pay link — comes back on its own after "Payer et activer le compte", with
nothing charged during the hold and nothing back-charged after it."""

import datetime

import pytest
from django.urls import reverse

from accounts.models import Account
from billing import runs, services
from billing.models import Invoice, Plan
from subscriptions.models import Subscription
from tests.billing.builders import add_card, shop_on_plan, start_billing
from tests.paylinks.builders import on_account_sale, online_shop, sent_link, token
from tests.subscriptions.builders import (
    monthly_box,
    paris,
    payments_of,
    refreshed,
    run_due,
    subs_shop,
    subscribe,
    subscriber,
    travel,
)

pytestmark = pytest.mark.django_db
D = datetime.date


def test_a_subscription_and_a_pay_link_resume_after_reactivation(client, account):
    shop = subs_shop(account)
    shop_on_plan(account, outlets=0, registers=0)  # subs_shop made them and switched Subscriptions on
    add_card(account)
    start_billing(account, paris(2026, 3, 1, 9))
    customer = subscriber(shop)
    with travel(paris(2026, 3, 2, 9)):
        sub = subscribe(shop, customer, monthly_box(shop, ships=False))
        run_due()
    assert refreshed(sub).next_billing_date == D(2026, 4, 2)
    till = online_shop(account)
    link = sent_link(till, on_account_sale(till))
    pay_page = reverse("paylinks:pay", kwargs={"token": token(link)})

    with travel(paris(2026, 3, 11, 10)):
        services.account_hold_start(actor=None, account=account, months=3)
    assert client.get(pay_page).status_code == 403  # the customer's page is closed
    for day in (paris(2026, 4, 2, 9), paris(2026, 5, 2, 9)):
        with travel(day):
            run_due()
    assert len(payments_of(sub)) == 1  # nothing charged during the hold

    pro = Plan.objects.get(code="pro")
    with travel(paris(2026, 5, 20, 15)):
        invoice = services.reactivation_start(actor=shop.actor, account=account, plan_id=pro.pk,
                                              frequency="monthly", addons=["subscriptions"])
        assert runs.invoice_charge(invoice.pk).status == Invoice.Status.PAID
        run_due()
    account.refresh_from_db()
    assert account.status == Account.Status.ACTIVE

    sub = refreshed(sub)
    assert sub.status == Subscription.Status.ACTIVE
    assert sub.next_billing_date == D(2026, 6, 2)  # the first boundary after reactivation, still on the 2nd
    assert len(payments_of(sub)) == 1  # April and May are not back-charged
    with travel(paris(2026, 6, 2, 9)):
        run_due()
    assert len(payments_of(sub)) == 2

    page = client.get(pay_page)
    assert page.status_code == 200  # the pay link opens again
