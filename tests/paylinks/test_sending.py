"""Sending a receipt with a pay link: the setting and when it is offered, from the sell screen and from the
Sales history, the amount's bounds, bad addresses, sending again, and what a refusal leaves unchanged."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts import permissions as perms
from accounts.models import OutgoingEmail
from paylinks.models import PayLink, PayLinkEmail, PayLinkSettings
from paylinks.services import pay_link_send
from payments.settings_services import payment_settings_update
from posbackoffice.errors import DomainError
from retail.models import Customer, Sale
from retail.services.sale_reversals import sale_void
from retail.services.sales import sale_take_payment
from tests.factories import member
from tests.paylinks.builders import on_account_sale, online_shop, sent_link, state
from tests.retail.builders import choose_register, page_text
from tests.retail.report_factories import customer, product

pytestmark = pytest.mark.django_db


# ---- the setting ------------------------------------------------------------------------------------------

def test_the_owner_enables_online_payments(owner_client, account):
    page = owner_client.get(reverse("paylinks:setup"))
    assert page.status_code == 200 and "Activer les paiements en ligne" in page_text(page)
    response = owner_client.post(reverse("paylinks:setup"), {"online_payments_enabled": "on", "reminder_days": ""})
    assert response.status_code == 302
    assert PayLinkSettings.objects.get(account=account).online_payments_enabled


@pytest.mark.parametrize("change", [{"processor": "tyro"}, {"cash_discount_enabled": True}])
def test_not_offered_with_tyro_or_the_cash_discount_programme(owner_client, owner, account, change):
    payment_settings_update(actor=owner, account=account, **({"processor": "integrated", "cash_discount_enabled": False,
                                                                "payout_schedule": "daily"} | change))
    page = owner_client.get(reverse("paylinks:setup"))
    assert "n’est pas disponible" in page_text(page)
    before = PayLinkSettings.objects.filter(account=account).count()
    response = owner_client.post(reverse("paylinks:setup"), {"online_payments_enabled": "on"})
    assert response.status_code == 400
    assert PayLinkSettings.objects.filter(account=account, online_payments_enabled=True).count() == 0
    assert PayLinkSettings.objects.filter(account=account).count() == before


def test_a_cashier_cannot_change_the_setting(client, account):
    client.force_login(member(account, perms.CASHIER))
    assert client.post(reverse("paylinks:setup"), {"online_payments_enabled": "on"}).status_code == 403
    assert not PayLinkSettings.objects.filter(account=account).exists()


def test_bad_reminder_days_are_refused(owner_client, account):
    response = owner_client.post(reverse("paylinks:setup"), {"online_payments_enabled": "on", "reminder_days": "0"})
    assert response.status_code == 400 and not PayLinkSettings.objects.filter(account=account).exists()


# ---- the link -------------------------------------------------------------------------------------------------

def test_the_link_asks_for_the_remaining_balance_with_an_unguessable_token(account, django_capture_on_commit_callbacks):
    shop = online_shop(account)
    sale = on_account_sale(shop, price=2450, paid=450)
    with django_capture_on_commit_callbacks(execute=True):
        link = sent_link(shop, sale)
    assert link.amount == 2000 and link.status == PayLink.Status.ACTIVE and len(link.key) >= 43
    assert PayLinkEmail.objects.get(link=link).queued_at is not None


@pytest.mark.parametrize("price,message", [(49, "0,50"), (100_000_001, "1 000 000,00")])
def test_amounts_out_of_bounds_send_nothing(account, price, message):
    shop = online_shop(account)
    sale = on_account_sale(shop, price=price)
    before = state(account)
    with pytest.raises(DomainError) as refused, translation.override("fr"):
        sent_link(shop, sale)
    assert message in str(refused.value.message).replace("\u202f", " ").replace("\xa0", " ")
    assert state(account) == before


@pytest.mark.parametrize("email,message", [
    ("", "pas d’adresse e-mail"),
    ("a@example.test, b@example.test", "une seule adresse e-mail"),
    ("camille@example", "n’est pas une adresse e-mail valide"),
])
def test_bad_addresses_send_nothing(account, email, message):
    shop = online_shop(account)
    sale = on_account_sale(shop)
    before = state(account)
    with pytest.raises(DomainError) as refused, translation.override("fr"):
        pay_link_send(actor=shop.actor, account=account, sale_id=sale.pk, email=email)
    assert message in str(refused.value.message)
    assert state(account) == before


def test_sending_again_deactivates_the_previous_link(account):
    shop = online_shop(account)
    sale = on_account_sale(shop)
    first = sent_link(shop, sale)
    second = sent_link(shop, sale)
    first.refresh_from_db()
    assert first.status == PayLink.Status.DEACTIVATED and first.ending == PayLink.Ending.REPLACED
    assert second.status == PayLink.Status.ACTIVE


def test_nothing_is_sent_while_online_payments_are_off(account):
    shop = online_shop(account, enabled=False)
    sale = on_account_sale(shop)
    before = state(account)
    with pytest.raises(DomainError):
        sent_link(shop, sale)
    assert state(account) == before


def test_voiding_the_sale_or_settling_it_in_store_deactivates_its_link(account):
    shop = online_shop(account)
    voided = on_account_sale(shop)
    link = sent_link(shop, voided)
    sale_void(actor=shop.actor, account=account, sale_id=voided.pk)
    link.refresh_from_db()
    assert (link.status, link.ending) == (PayLink.Status.DEACTIVATED, PayLink.Ending.VOIDED)

    paid_in_store = on_account_sale(shop)
    link = sent_link(shop, paid_in_store)
    sale_take_payment(actor=shop.actor, account=account, sale_id=paid_in_store.pk, payment_type_id=shop.cash.pk,
                      amount=1000)
    link.refresh_from_db()
    assert (link.status, link.ending) == (PayLink.Status.DEACTIVATED, PayLink.Ending.SETTLED)


# ---- from the Sales history -----------------------------------------------------------------------------------

def test_from_the_sales_history(owner_client, account):
    shop = online_shop(account)
    sale = on_account_sale(shop)
    detail = owner_client.get(reverse("retail:sale_detail", kwargs={"sale_id": sale.pk}))
    assert "Envoyer le reçu avec un lien de paiement" in page_text(detail)
    form = owner_client.get(reverse("paylinks:send", kwargs={"sale_id": sale.pk}))
    assert "camille@example.test" in form.content.decode() and "Envoyer le reçu par e-mail" in page_text(form)
    response = owner_client.post(reverse("paylinks:send", kwargs={"sale_id": sale.pk}),
                                 {"email": "camille@example.test", "language": "en"})
    assert response.status_code == 302
    link = PayLink.objects.get(sale=sale)
    assert link.language == "en" and link.created_by is not None


def test_the_history_form_defaults_to_the_customers_language_and_may_override_it(owner_client, account):
    shop = online_shop(account)  # a French shop
    sale = on_account_sale(shop, language="en")
    form = owner_client.get(reverse("paylinks:send", kwargs={"sale_id": sale.pk}))
    assert form.context["form"]["language"].value() == "en"
    owner_client.post(reverse("paylinks:send", kwargs={"sale_id": sale.pk}),
                      {"email": "camille@example.test", "language": "fr"})
    assert PayLink.objects.get(sale=sale).language == "fr"


def test_the_history_form_refuses_two_addresses_and_sends_nothing(owner_client, account):
    shop = online_shop(account)
    sale = on_account_sale(shop)
    before = state(account)
    response = owner_client.post(reverse("paylinks:send", kwargs={"sale_id": sale.pk}),
                                 {"email": "a@example.test; b@example.test", "language": "fr"})
    assert response.status_code == 400 and "Saisissez une seule adresse e-mail." in page_text(response)
    assert state(account) == before


def test_another_accounts_sale_is_not_found(owner_client, account, other_account):
    other = online_shop(other_account)
    sale = on_account_sale(other)
    assert owner_client.get(reverse("paylinks:send", kwargs={"sale_id": sale.pk})).status_code == 404
    link = sent_link(other, sale)
    assert owner_client.get(reverse("paylinks:detail", kwargs={"link_id": link.pk})).status_code == 404
    assert owner_client.post(reverse("paylinks:deactivate", kwargs={"link_id": link.pk})).status_code == 404
    assert PayLink.objects.get(pk=link.pk).status == PayLink.Status.ACTIVE


# ---- during a sale --------------------------------------------------------------------------------------------

def _cart_with_customer(client, shop, email, language=""):
    from retail.services.sales import sale_add_product, sale_set_customer

    choose_register(client, shop.register)
    item = product(shop, sku=f"SELL-{Sale.objects.count()}", name="Savon", price=650, rate_bp=2000)
    line = sale_add_product(actor=shop.actor, account=shop.account, product_id=item.pk, register_id=shop.register.pk)
    buyer = customer(shop, email=email, language=language)
    sale_set_customer(actor=shop.actor, account=shop.account, sale_id=line.sale_id, customer_id=buyer.pk)
    return Sale.objects.get(pk=line.sale_id)


def test_the_sell_screen_offers_the_option_on_by_default_and_sends_the_link(owner_client, account):
    shop = online_shop(account)
    sale = _cart_with_customer(owner_client, shop, "camille@example.test")
    screen = owner_client.get(reverse("retail:sell")).content.decode()
    assert 'name="send_pay_link" value="1" checked' in screen
    assert "Envoyer le reçu avec un lien de paiement à camille@example.test" in screen
    response = owner_client.post(reverse("retail:sell_complete"), {"on_account": "1", "send_pay_link": "1"},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 200
    sale.refresh_from_db()
    assert sale.status == Sale.Status.ON_ACCOUNT
    assert PayLink.objects.get(sale=sale).amount == 650


def test_the_sell_screen_sends_in_the_customers_language(owner_client, account, django_capture_on_commit_callbacks):
    shop = online_shop(account)  # a French shop
    sale = _cart_with_customer(owner_client, shop, "camille@example.test", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("retail:sell_complete"), {"on_account": "1", "send_pay_link": "1"},
                          headers={"HX-Request": "true"})
    link = PayLink.objects.get(sale=sale)
    assert link.language == "en"
    outgoing = OutgoingEmail.objects.get(pk=PayLinkEmail.objects.get(link=link).email_id)
    assert outgoing.subject.startswith("Your receipt ")


def test_an_invalid_address_shows_a_banner_disables_complete_sale_and_is_refused(owner_client, account):
    shop = online_shop(account)
    sale = _cart_with_customer(owner_client, shop, "")
    Customer.objects.filter(pk=sale.customer_id).update(email="a@example.test, b@example.test")
    screen = owner_client.get(reverse("retail:sell")).content.decode()
    assert 'id="pay-link-email-warning"' in screen and "data-blocks-submit" in screen
    assert reverse("retail:customer_edit", kwargs={"customer_id": sale.customer_id}) in screen
    before = state(account)
    response = owner_client.post(reverse("retail:sell_complete"), {"on_account": "1", "send_pay_link": "1"},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert state(account) == before and Sale.objects.get(pk=sale.pk).status == Sale.Status.OPEN
    # Turning the option off completes the sale without a link.
    response = owner_client.post(reverse("retail:sell_complete"), {"on_account": "1"}, headers={"HX-Request": "true"})
    assert Sale.objects.get(pk=sale.pk).status == Sale.Status.ON_ACCOUNT and not PayLink.objects.exists()


# ---- Finance › Payment links ----------------------------------------------------------------------------------

def test_the_list_has_tabs_details_and_deactivate(owner_client, account):
    shop = online_shop(account)
    active = sent_link(shop, on_account_sale(shop))
    replaced = sent_link(shop, on_account_sale(shop))
    sent_link(shop, replaced.sale)
    page = owner_client.get(reverse("paylinks:list"))
    assert page.status_code == 200 and page.content.decode().count("data-link=") == 3
    tab = owner_client.get(reverse("paylinks:list") + "?status=deactivated")
    assert tab.content.decode().count("data-link=") == 1
    detail = owner_client.get(reverse("paylinks:detail", kwargs={"link_id": active.pk}))
    text = page_text(detail)
    assert "/pay/" in text and shop.outlet.name in text and "24,50" in text
    response = owner_client.post(reverse("paylinks:deactivate", kwargs={"link_id": active.pk}))
    assert response.status_code == 302
    active.refresh_from_db()
    assert (active.status, active.ending) == (PayLink.Status.DEACTIVATED, PayLink.Ending.STAFF)
    again = owner_client.post(reverse("paylinks:deactivate", kwargs={"link_id": active.pk}), follow=True)
    assert "seul un lien actif" in page_text(again)


def test_a_bad_cursor_is_refused(owner_client):
    response = owner_client.get(reverse("paylinks:list") + "?after=not-a-cursor")
    assert response.status_code == 400
