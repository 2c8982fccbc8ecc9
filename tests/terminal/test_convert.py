"""Beyond seed 002: a standalone payment becomes an itemised sale — the cashier adds the items, the sell
screen offers the outlet's standalone payments of the day, and attaching one records it as the sale's
card payment; more than what is left to pay is refused with the difference; then the sale completes as
every paid sale does (stock moves, receipt)."""

import pytest
from django.urls import reverse

from accounts import permissions as perms
from payments.models import Payment
from payments.services.standalone import payment_attach_to_sale
from posbackoffice.errors import DomainError
from retail.models import Sale
from retail.services.sales import sale_complete
from tests.factories import member
from tests.retail.builders import choose_register, page_text
from tests.terminal.test_driver import standalone, take_standalone

pytestmark = pytest.mark.django_db


def test_a_standalone_payment_becomes_the_card_payment_of_an_itemised_sale(client, shop, cart, reader):
    standalone(shop, reader)
    too_much = take_standalone(shop, reader, "60,00")
    exact = take_standalone(shop, reader, "49,00")

    with pytest.raises(DomainError, match="add items for €11.00 more"):
        payment_attach_to_sale(actor=shop.actor, account=shop.account, payment_id=too_much.pk, sale_id=cart.pk)
    assert Payment.objects.get(pk=too_much.pk).sale_id is None

    client.force_login(member(shop.account, perms.CASHIER, language="en"))
    choose_register(client, shop.register)
    sell = page_text(client.get(reverse("retail:sell")))
    assert "Standalone payment of €49.00" in sell and "Attach to this sale" in sell
    client.post(reverse("terminal:attach_standalone", args=[exact.pk]))

    exact.refresh_from_db()
    cart.refresh_from_db()
    assert (exact.purpose, exact.sale_id, cart.balance_due) == ("sale", cart.pk, 0)
    completed = sale_complete(actor=shop.actor, account=shop.account, sale_id=cart.pk)
    assert completed.status == Sale.Status.COMPLETED and completed.receipt_number

    with pytest.raises(DomainError, match="not in a sale yet"):
        payment_attach_to_sale(actor=shop.actor, account=shop.account, payment_id=exact.pk, sale_id=cart.pk)
