"""Seed 002, "Générer des ventes autonomes": a custom payment type flagged as recording standalone payments
records them in the POS (so they count in daily totals); the sale's page says, before voiding or
returning, that the customer's card is not refunded that way."""

import html

import pytest
from django.urls import reverse

from retail.models import PaymentType
from tests.factories import owner_of
from tests.retail import report_factories as rf

pytestmark = pytest.mark.django_db


def test_the_flagged_type_warns_before_voiding_that_the_card_is_not_refunded(client, shop):
    owner = owner_of(shop.account)
    client.force_login(owner)
    client.post(reverse("retail:payment_type_create"), {"payment-name": "Paiement terminal autonome",
                                                         "payment-records_standalone": "on"})
    standalone = PaymentType.objects.get(name="Paiement terminal autonome")
    assert standalone.records_standalone and standalone.kind == PaymentType.Kind.CUSTOM

    scarf = rf.product(shop, sku="ECH-9", name="Écharpe", price=2450, rate_bp=2000)
    sale = rf.sell(shop, [(scarf, 1)], payments=[(standalone, 2450)])
    page = html.unescape(client.get(reverse("retail:sale_detail", args=[sale.pk])).content.decode())
    assert "does not refund the customer's card" in page or "ne rembourse pas" in page
    assert "NOT refunded" in page or "PAS remboursée" in page

    cash_sale = rf.sell(shop, [(scarf, 1)], payments=[(shop.cash, 2450)])
    page = html.unescape(client.get(reverse("retail:sale_detail", args=[cash_sale.pk])).content.decode())
    assert "standalone-type-notice" not in page
