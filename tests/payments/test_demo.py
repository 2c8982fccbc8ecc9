"""The demo shop's card payments: customers paying part of what they owe on account by card through the
sandbox, one declined, two refunded in full and one in part, all shown in Finance › Payments; nothing
added when the demo loads again."""

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse

from accounts.models import Account
from payments.models import Payment, Refund
from payments.sandbox.models import SandboxPaymentIntent, SandboxRefund
from retail.models import Customer, Sale, SalePayment
from tests.factories import owner_of
from tests.retail.builders import in_english, page_text

pytestmark = pytest.mark.django_db


def test_the_demo_shop_has_card_payments_to_show_in_finance(client, monkeypatch):
    monkeypatch.setattr("subscriptions.demo.load", lambda account: None)  # tests/subscriptions/test_demo.py
    monkeypatch.setattr("billing.demo.load", lambda account: None)  # the platform's charges: tests/billing/test_demo.py
    call_command("demo_data", "--small", stdout=io.StringIO())
    shop = Account.objects.get(name="Boutique Léa")

    # The demo's phone payments (a pay link paid online is the pay links' demo: tests/paylinks/test_demo.py).
    payments = list(Payment.objects.filter(account=shop, mode=Payment.Mode.INTEGRATED).select_related("sale")
                    .order_by("pk"))
    assert Counter(payment.status for payment in payments) == {
        Payment.Status.SUCCEEDED: 2, Payment.Status.REFUNDED: 2, Payment.Status.PARTIALLY_REFUNDED: 1,
        Payment.Status.FAILED: 1}
    paid_by_link = set(Payment.objects.filter(account=shop, mode=Payment.Mode.ONLINE).values_list("sale", flat=True))
    assert {(p.processor, p.method, p.sale.status if p.sale_id not in paid_by_link else Sale.Status.ON_ACCOUNT)
            for p in payments} == {("sandbox", Payment.Method.CARD_NOT_PRESENT, Sale.Status.ON_ACCOUNT)}
    taken = [p for p in payments if p.status != Payment.Status.FAILED]
    assert all(p.card_last4 in ("4242", "4444") for p in taken)
    online = Payment.objects.filter(account=shop, mode=Payment.Mode.ONLINE).count()
    assert SandboxPaymentIntent.objects.count() == len(payments) + online  # each through the processor, once
    # What was taken is recorded on the sales it paid, and the customers owe what the sales still say.
    assert sorted(SalePayment.objects.filter(account=shop, processor_payment_id__in=[p.pk for p in payments])
                  .values_list("processor_payment_id", "amount")) == [(p.pk, p.amount) for p in taken]
    owed = Sale.objects.filter(account=shop, status=Sale.Status.ON_ACCOUNT)
    assert sum(sale.balance_due for sale in owed) == Customer.objects.filter(account=shop).aggregate(
        total=Sum("balance"))["total"]
    refunds = Refund.objects.filter(account=shop)
    assert {refund.status for refund in refunds} == {Refund.Status.SUCCEEDED}
    assert refunds.count() == SandboxRefund.objects.count() == 3
    partly = next(p for p in payments if p.status == Payment.Status.PARTIALLY_REFUNDED)
    assert 0 < partly.amount_refunded < partly.amount

    client.force_login(in_english(owner_of(shop)))
    listing = page_text(client.get(reverse("payments:list")))
    rows = listing[listing.index('id="payments-table"'):]
    assert rows.count("<tr>") == 1 + len(payments) + online  # the header and one row per payment
    for shown in ("Refunded", "Partially refunded", "Failed", "Succeeded", "Visa •••• 4242", "Mastercard •••• 4444"):
        assert shown in rows, shown

    call_command("demo_data", "--small", stdout=io.StringIO())
    assert Payment.objects.count() == len(payments) + online and Refund.objects.count() == 3
