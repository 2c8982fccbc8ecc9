"""Setup › Sales settings: prices with or without tax, the receipt footer, tax rates (typed as
percentages, kept as basis points), custom payment types and switching them on and off; the menu."""

import pytest
from django import forms
from django.urls import reverse

from accounts.models import AuditEvent
from posbackoffice.errors import DomainError
from retail.forms.settings import parse_rate
from retail.models import PaymentType, ShopSettings, TaxRate
from retail.pricing import format_rate
from retail.services.catalogue import tax_rate_create
from tests.factories import member, owner_of
from tests.retail.factories import CustomPaymentTypeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(account):
    """The owner, reading the back-office in English (assertions read the English source strings)."""
    user = owner_of(account)
    user.language = "en"
    user.save(update_fields=["language"])
    return user


@pytest.fixture
def staff(client, owner):
    client.force_login(owner)
    return client


def rates(account) -> dict[str, int]:
    return dict(TaxRate.objects.filter(account=account).values_list("name", "rate_bp"))


# ---- Rates typed by people ----------------------------------------------------------------------------

@pytest.mark.parametrize("typed,rate_bp", [
    ("20", 2000), ("5,5", 550), ("5.5", 550), ("2,1 %", 210), ("8,50", 850), ("0", 0), ("100", 10000),
    (" 19,6% ", 1960), ("0,05", 5),
])
def test_parse_rate_reads_percentages_as_basis_points(typed, rate_bp):
    assert parse_rate(typed) == rate_bp


@pytest.mark.parametrize("typed", ["", "abc", "5,555", "-5", "1 000", "5,5,5", "100,01", "250", ",5", "5,"])
def test_parse_rate_refuses_what_is_not_a_rate(typed):
    with pytest.raises(forms.ValidationError):
        parse_rate(typed)


@pytest.mark.parametrize("rate_bp,language,text", [
    (550, "fr", "5,5\u00a0%"), (2000, "fr", "20\u00a0%"), (550, "en", "5.5%"), (5, "en", "0.05%"),
])
def test_format_rate(rate_bp, language, text):
    assert format_rate(rate_bp, language) == text


# ---- Service ------------------------------------------------------------------------------------------

def test_tax_rate_create_writes_the_rate_and_an_audit_row(account):
    actor = owner_of(account)
    tax_rate = tax_rate_create(actor=actor, account=account, name=" TVA 8,5 % ", rate_bp=850)
    assert (tax_rate.name, tax_rate.rate_bp, tax_rate.is_default) == ("TVA 8,5 %", 850, False)
    event = AuditEvent.objects.get(account=account, action="tax_rate.created")
    assert event.actor == actor and event.after == {"name": "TVA 8,5 %", "rate_bp": 850}


@pytest.mark.parametrize("name,rate_bp", [("", 850), ("tva 20 %", 850), ("Trop", 10001)])
def test_tax_rate_create_refuses_and_changes_nothing(account, name, rate_bp):
    before = rates(account)
    with pytest.raises(DomainError):
        tax_rate_create(actor=owner_of(account), account=account, name=name, rate_bp=rate_bp)
    assert rates(account) == before
    assert not AuditEvent.objects.filter(action="tax_rate.created").exists()


def test_tax_rate_create_takes_integers_only(account):
    with pytest.raises(TypeError):
        tax_rate_create(actor=owner_of(account), account=account, name="TVA 8,5 %", rate_bp=8.5)


def test_a_name_used_by_another_account_is_free(account, other_account):
    tax_rate_create(actor=owner_of(other_account), account=other_account, name="TVA 8,5 %", rate_bp=850)
    assert tax_rate_create(actor=owner_of(account), account=account, name="TVA 8,5 %", rate_bp=850).pk


# ---- Page ---------------------------------------------------------------------------------------------

def test_page_shows_settings_tax_rates_and_payment_types(staff, account):
    ShopSettings.objects.filter(account=account).update(receipt_footer="Merci de votre visite !")

    response = staff.get(reverse("retail:shop_settings"))

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["settings_form"].initial == {"prices_include_tax": True,
                                                         "receipt_footer": "Merci de votre visite !"}
    for text in ("TVA 5,5 %", "5.5%", "TVA 20 %"):
        assert text in html
    # The built-in types are named in the account's language when it is set up: the merchant's data.
    for name in PaymentType.objects.filter(account=account).values_list("name", flat=True):
        assert name in html


def test_save_prices_exclude_tax_and_footer(staff, account, owner):
    response = staff.post(reverse("retail:shop_settings"), {"receipt_footer": "  Échanges sous 30 jours.  "})

    assert response.status_code == 302
    row = ShopSettings.objects.get(account=account)
    assert (row.prices_include_tax, row.receipt_footer) == (False, "Échanges sous 30 jours.")
    event = AuditEvent.objects.get(account=account, action="shop.settings_changed")
    assert event.actor == owner and event.before["prices_include_tax"] is True


def test_a_too_long_footer_is_refused(staff, account):
    response = staff.post(reverse("retail:shop_settings"), {"prices_include_tax": "on", "receipt_footer": "x" * 201})
    assert response.status_code == 400 and response.context["settings_form"].errors["receipt_footer"]
    assert ShopSettings.objects.get(account=account).receipt_footer == ""


def test_an_account_without_settings_yet_can_save_them(staff, account):
    ShopSettings.objects.filter(account=account).delete()
    assert staff.get(reverse("retail:shop_settings")).status_code == 200
    staff.post(reverse("retail:shop_settings"), {"prices_include_tax": "on", "receipt_footer": "Merci"})
    assert ShopSettings.objects.get(account=account).receipt_footer == "Merci"


def test_add_a_tax_rate_typed_as_a_percentage(staff, account):
    response = staff.post(reverse("retail:tax_rate_create"), {"tax-name": "TVA 8,5 %", "tax-rate": "8,5"})
    assert response.status_code == 302
    assert rates(account)["TVA 8,5 %"] == 850


@pytest.mark.parametrize("typed", ["8,555", "huit", "120"])
def test_a_rate_that_cannot_be_read_is_an_error_on_the_rate_field(staff, account, typed):
    before = rates(account)
    response = staff.post(reverse("retail:tax_rate_create"), {"tax-name": "TVA spéciale", "tax-rate": typed})
    assert response.status_code == 400 and response.context["tax_form"].errors["rate"]
    assert rates(account) == before


def test_a_duplicate_tax_rate_shows_the_services_message(staff, account):
    before = rates(account)
    response = staff.post(reverse("retail:tax_rate_create"), {"tax-name": "tva 20 %", "tax-rate": "20"})
    assert response.status_code == 400
    assert "A tax rate named “tva 20 %” already exists." in response.content.decode()
    assert rates(account) == before


def test_add_a_custom_payment_type(staff, account):
    response = staff.post(reverse("retail:payment_type_create"), {"payment-name": "Paiement terminal autonome"})

    assert response.status_code == 302
    created = PaymentType.objects.get(account=account, name="Paiement terminal autonome")
    assert created.kind == PaymentType.Kind.CUSTOM and created.is_active
    assert "Paiement terminal autonome" in staff.get(reverse("retail:shop_settings")).content.decode()


def test_a_duplicate_payment_type_is_refused(staff, account):
    CustomPaymentTypeFactory(account=account, name="Chèque")
    response = staff.post(reverse("retail:payment_type_create"), {"payment-name": "chèque"})
    assert response.status_code == 400
    assert "A payment type named “chèque” already exists." in response.content.decode()
    assert PaymentType.objects.filter(account=account, kind=PaymentType.Kind.CUSTOM).count() == 1


def test_switch_a_custom_payment_type_off_and_on(staff, account):
    terminal = CustomPaymentTypeFactory(account=account, name="Paiement terminal autonome")
    url = reverse("retail:payment_type_set_active", args=[terminal.pk])

    assert staff.post(url, {"active": "0"}).status_code == 302
    terminal.refresh_from_db()
    assert not terminal.is_active
    assert staff.post(url, {"active": "1"}).status_code == 302
    terminal.refresh_from_db()
    assert terminal.is_active


def test_built_in_payment_types_cannot_be_switched_off(staff, account):
    cash = PaymentType.objects.get(account=account, kind=PaymentType.Kind.CASH)

    response = staff.post(reverse("retail:payment_type_set_active", args=[cash.pk]), {"active": "0"})

    assert response.status_code == 400
    assert "Built-in payment types cannot be switched off." in response.content.decode()
    cash.refresh_from_db()
    assert cash.is_active
    assert f'action="{reverse("retail:payment_type_set_active", args=[cash.pk])}"' not in response.content.decode()


def test_another_accounts_payment_type_is_not_found(staff, other_account):
    theirs = CustomPaymentTypeFactory(account=other_account)
    response = staff.post(reverse("retail:payment_type_set_active", args=[theirs.pk]), {"active": "0"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


def test_a_manager_cannot_change_sales_settings(client, account):
    client.force_login(member(account, "manager"))
    assert client.get(reverse("retail:shop_settings")).status_code == 403
    assert client.post(reverse("retail:tax_rate_create"), {"tax-name": "X", "tax-rate": "1"}).status_code == 403
    assert not TaxRate.objects.filter(account=account, name="X").exists()


# ---- Menu ---------------------------------------------------------------------------------------------

def _menu_urls(response) -> set[str]:
    return {item["url"] for section in response.context["menu"] for item in section["items"]}


def test_setup_menu_has_sales_settings_and_customer_types(staff, client, account):
    owner_menu = _menu_urls(staff.get(reverse("retail:customers")))
    assert {reverse("retail:shop_settings"), reverse("retail:customer_types"), reverse("setup:general")} <= owner_menu

    client.force_login(member(account, "cashier"))
    cashier_menu = _menu_urls(client.get(reverse("retail:customers")))
    assert reverse("retail:customer_types") in cashier_menu
    assert reverse("retail:shop_settings") not in cashier_menu
