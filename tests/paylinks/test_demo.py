"""The demo shop's pay links: online payments on, a link in each tab (the paid one through the sandbox), their
e-mails queued, the seller told by the bell; nothing added when the demo loads again."""

import io

import pytest
from django.core.management import call_command

from accounts.models import Account, Notification
from paylinks.models import PayLink, PayLinkEmail, PayLinkSettings
from payments.models import Payment

pytestmark = pytest.mark.django_db


def test_the_demo_shop_has_a_link_in_each_tab(django_capture_on_commit_callbacks):
    call_command("demo_data", "--small", stdout=io.StringIO())
    shop = Account.objects.get(name="Boutique Léa")
    assert PayLinkSettings.objects.get(account=shop).online_payments_enabled
    statuses = set(PayLink.objects.filter(account=shop).values_list("status", flat=True))
    assert statuses == {PayLink.Status.ACTIVE, PayLink.Status.COMPLETED, PayLink.Status.DEACTIVATED}
    paid = PayLink.objects.get(account=shop, status=PayLink.Status.COMPLETED)
    assert paid.payment.mode == Payment.Mode.ONLINE and paid.payment.status == Payment.Status.SUCCEEDED
    assert paid.sale.balance_due == 0
    assert Notification.objects.filter(account=shop, user=paid.sale.created_by).exists()
    assert PayLinkEmail.objects.filter(account=shop, kind=PayLinkEmail.Kind.RECEIPT).count() == \
        PayLink.objects.filter(account=shop).count()
    count = PayLink.objects.count()
    call_command("demo_data", "--small", stdout=io.StringIO())
    assert PayLink.objects.count() == count
