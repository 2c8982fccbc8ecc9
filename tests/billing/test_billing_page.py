"""Setup › Billing: the platform's charges to the shop (what the merchant paid us, on the platform's
processor account), never its customers' payments or another shop's."""

import pytest
from django.urls import reverse

from accounts import permissions as perms
from payments.models import Payment
from tests.factories import member
from tests.payments.builders import page_text, paris, payment
from tests.retail.builders import in_english

pytestmark = pytest.mark.django_db


def platform_charge(account, *, description, **fields) -> Payment:
    return payment(account, purpose=Payment.Purpose.MERCHANT_INVOICE, purpose_ref=1, payee=Payment.Payee.PLATFORM,
                   description=description, **fields)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(in_english(owner))
    return client


def test_with_no_charge_the_page_says_so(owner_client, account):
    payment(account, description="A customer's payment")  # the shop's own: Finance › Payments

    text = page_text(owner_client.get(reverse("billing:setup")))

    assert "No charges yet. What you pay for your plan and add-ons will be listed here." in text
    assert "A customer's payment" not in text


def test_the_platforms_charges_are_listed_newest_first(owner_client, account, other_account):
    platform_charge(account, description="Plan Pro, February", at=paris(2026, 2, 1, 9), amount=2900)
    platform_charge(account, description="Plan Pro, March", at=paris(2026, 3, 1, 9), amount=3450,
                    status=Payment.Status.FAILED)
    platform_charge(other_account, description="Another shop's plan")
    payment(account, description="A customer's payment")

    response = owner_client.get(reverse("billing:setup"))

    assert response.status_code == 200
    assert [charge.description for charge in response.context["charges"]] == ["Plan Pro, March", "Plan Pro, February"]
    text = page_text(response)
    assert "Charges" in text and "€34.50" in text and "€29.00" in text
    assert '<span class="badge danger" data-payment-status="failed">Failed</span>' in text
    assert '<span class="badge success" data-payment-status="succeeded">Succeeded</span>' in text
    assert "03/01/2026" in text
    assert "Another shop's plan" not in text and "A customer's payment" not in text
    assert "No charges yet" not in text


def test_only_roles_that_manage_billing_see_it(client, account):
    client.force_login(member(account, perms.MANAGER))

    assert client.get(reverse("billing:setup")).status_code == 403
