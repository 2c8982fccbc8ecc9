"""Who may do what with saved cards, role by role (checked on the server whatever the page shows), and
the pages of saved cards under the strict CSP."""

import pytest
from django.urls import reverse

from accounts import permissions as perms
from accounts.services import staff_role_update
from retail.models import Sale
from saved_cards import invites
from tests.factories import member, owner_of, role
from tests.retail import report_factories as rf
from tests.retail.builders import choose_register
from tests.saved_cards.builders import cards_state, invite_row, save_card
from tests.test_pages_are_csp_clean import HANDLER, INLINE_SCRIPT, OUTSIDE, STYLE_ATTR

pytestmark = pytest.mark.django_db

SAVED_CARD_CODES = {"add_saved_payment_method", "edit_saved_payment_method", "use_saved_payment_method"}


@pytest.fixture
def shop(till_shop):
    return till_shop


@pytest.fixture
def scene(shop):
    """Léa Roux with two saved cards, and a sale for her in progress."""
    buyer = rf.customer(shop, first_name="Léa", last_name="Roux", email="lea@exemple.fr")
    default, other = save_card(buyer), save_card(buyer, number="5555555555554444")
    scarf = rf.product(shop, sku="ECH-1", name="Écharpe", price=2450, rate_bp=2000)
    sale = rf.leave_in_progress(shop, [(scarf, 1)])
    Sale.objects.filter(pk=sale.pk).update(customer=buyer)
    return {"customer": buyer, "default": default, "other": other}


def attempts(client, scene):
    """One request per permission: add (the + Add page), edit (Set as default, saved), use (Saved payments)."""
    customer = scene["customer"]
    return {
        "add_saved_payment_method": client.get(reverse("saved_cards:add", args=[customer.pk])),
        "edit_saved_payment_method": client.post(reverse("saved_cards:save_changes", args=[customer.pk]),
                                                 {"default": scene["other"].pk}),
        "use_saved_payment_method": client.get(reverse("saved_cards:sell")),
    }


@pytest.mark.parametrize("preset", [perms.OWNER, perms.ADMIN, perms.MANAGER, perms.CASHIER])
def test_each_preset_role(client, shop, scene, preset):
    user = owner_of(shop.account) if preset == perms.OWNER else member(shop.account, preset, language="en")
    client.force_login(user)
    choose_register(client, shop.register)
    granted = role(shop.account, preset).granted() & SAVED_CARD_CODES
    assert granted == (SAVED_CARD_CODES if preset in (perms.OWNER, perms.ADMIN) else set())
    before = cards_state(shop.account)

    answers = attempts(client, scene)

    for code, response in answers.items():
        if code in granted:
            assert response.status_code in (200, 302), (code, response.status_code)
        else:
            assert response.status_code == 403, (code, response.status_code)
    if not granted:
        assert cards_state(shop.account) == before


@pytest.mark.parametrize("code", sorted(SAVED_CARD_CODES))
def test_a_role_given_one_permission_can_do_that_only(client, shop, scene, code):
    cashier = role(shop.account, perms.CASHIER)
    staff_role_update(actor=owner_of(shop.account), account=shop.account, role_id=cashier.pk, name=cashier.name,
                      permissions=sorted(cashier.granted() | {code}))
    client.force_login(member(shop.account, perms.CASHIER, language="en"))
    choose_register(client, shop.register)

    answers = attempts(client, scene)

    assert {name for name, response in answers.items() if response.status_code != 403} == {code}


def test_the_pages_of_saved_cards_are_csp_clean(client, shop, scene):
    customer = scene["customer"]
    client.force_login(owner_of(shop.account))
    choose_register(client, shop.register)
    invite = invite_row(customer)
    pages = [
        reverse("retail:customer_detail", args=[customer.pk]),
        reverse("saved_cards:add", args=[customer.pk]),
        reverse("saved_cards:invite", args=[customer.pk, invite.pk]),
        reverse("saved_cards:sell"),
        reverse("saved_cards:enabled"),  # (the terms page, without parameters, is in the project-wide test)
        invites.invite_path(invite),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "script-src 'self'" in response["Content-Security-Policy"]
        for pattern in (INLINE_SCRIPT, HANDLER, STYLE_ATTR, OUTSIDE):
            assert not pattern.findall(html), (url, pattern.pattern)
