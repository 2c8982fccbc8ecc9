"""Customer types with a discount (issue 9, "Customer types, as the seed promises"): the types page (name and
discount percentage, kept as basis points), the service that gives a customer a type (what subscriptions
calls), and the sell screen applying the type's discount to every line of its customers' sales — attached,
taken off, lines added afterwards, the type or its discount changed while the sale is open — with integer
amounts, the tax on what is paid, an audit row, and the discount shown on the line, the sale and the receipt."""

import html
import re

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import AuditEvent, OutgoingEmail
from posbackoffice.errors import DomainError
from retail.models import CustomerType, Sale, SaleLine
from retail.pricing import line_amounts
from retail.services import customers as customer_services
from retail.services import sales as sale_services
from retail.services.shop import shop_settings_update
from tests.retail import report_factories as rf
from tests.retail.builders import choose_register, in_english, page_text, pos_state
from tests.retail.factories import CustomerTypeFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def shop(account):
    shop = rf.make_shop(account)
    shop.session = rf.open_register(shop, opening_float=5000)
    return shop


@pytest.fixture
def jam(shop):
    """3,33 € at 5,5 % VAT."""
    return rf.product(shop, sku="CONF-1", name="Confiture", price=333, rate_bp=550)


@pytest.fixture
def scarf(shop):
    """45,00 € at 20 % VAT."""
    return rf.product(shop, sku="ECH-1", name="Écharpe", price=4500, rate_bp=2000)


@pytest.fixture
def vip(shop):
    return customer_services.customer_type_create(actor=shop.actor, account=shop.account, name="VIP",
                                                  discount_bp=1000)


@pytest.fixture
def vip_customer(shop, vip):
    return rf.customer(shop, first_name="Léa", last_name="Roux", customer_type_id=vip.pk)


def words(response) -> str:
    """What a reader sees: the body without its tags, runs of white space as one space."""
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"[ \t\n]+", " ", html.unescape(text))


def set_customer(shop, sale, customer):
    return sale_services.sale_set_customer(actor=shop.actor, account=shop.account, sale_id=sale.pk,
                                           customer_id=customer.pk if customer else None)


def lines_of(sale) -> list[tuple]:
    return list(SaleLine.objects.filter(sale=sale).order_by("position")
                .values_list("name", "discount", "customer_discount", "tax_amount", "line_total"))


def totals(sale) -> tuple:
    sale = Sale.objects.get(pk=sale.pk)
    return sale.discount_total, sale.tax_total, sale.total


def discount_events(account) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(account=account, action="sale.customer_discount_changed").order_by("pk"))


# ---- pricing ----------------------------------------------------------------------------------------------

def test_the_type_discount_is_taken_after_the_cashiers_discount_and_before_the_tax():
    # 3 × 3,33 € = 9,99 €; 10 % of it is 0,999 → 1,00 €; 8,99 € paid, of which 5,5 % tax = 0,4687 → 0,47 €.
    assert line_amounts(quantity=3, unit_price=333, discount=0, rate_bp=550, prices_include_tax=True,
                        customer_discount_bp=1000) == \
        line_amounts(quantity=3, unit_price=333, discount=0, rate_bp=550, prices_include_tax=True).__class__(
            gross=999, discount=0, tax=47, total=899, customer_discount=100)
    # A cashier's 1,99 € first: 10 % of the 8,00 € left; prices excluding tax: 20 % added on 7,20 €.
    amounts = line_amounts(quantity=3, unit_price=333, discount=199, rate_bp=2000, prices_include_tax=False,
                           customer_discount_bp=1000)
    assert (amounts.discount, amounts.customer_discount, amounts.tax, amounts.total) == (199, 80, 144, 864)
    # 7,5 % of 0,10 € is 0,0075 → 0,01 € (half up); 100 % leaves nothing and no tax.
    assert line_amounts(quantity=1, unit_price=10, discount=0, rate_bp=2000, prices_include_tax=True,
                        customer_discount_bp=750).customer_discount == 1
    full = line_amounts(quantity=2, unit_price=4500, discount=0, rate_bp=2000, prices_include_tax=True,
                        customer_discount_bp=10_000)
    assert (full.customer_discount, full.tax, full.total) == (9000, 0, 0)


# ---- the sale follows its customer's type ------------------------------------------------------------------

def test_attaching_a_discounted_customer_discounts_every_line_and_is_audited(shop, jam, scarf, vip_customer):
    sale = rf.leave_in_progress(shop, [(jam, 3), (scarf, 1)])
    assert totals(sale) == (0, 52 + 750, 999 + 4500)

    set_customer(shop, sale, vip_customer)

    assert lines_of(sale) == [("Confiture", 0, 100, 47, 899), ("Écharpe", 0, 450, 675, 4050)]
    assert totals(sale) == (550, 47 + 675, 899 + 4050)
    sale = Sale.objects.get(pk=sale.pk)
    assert (sale.customer_type.name, sale.customer_type_name, sale.customer_discount_bp) == ("VIP", "VIP", 1000)
    assert sale.customer_discount_label == "Customer discount VIP −10%"
    [event] = discount_events(shop.account)
    assert event.actor == shop.actor and event.object_id == str(sale.pk)
    assert event.before == {"customer_type": None, "customer_type_name": "", "discount_bp": 0,
                            "customer_discount": 0}
    assert event.after == {"customer_type": sale.customer_type_id, "customer_type_name": "VIP", "discount_bp": 1000,
                           "customer_discount": 550}


def test_lines_added_afterwards_get_the_discount_too(shop, jam, scarf, vip_customer):
    sale = rf.leave_in_progress(shop, [(jam, 1)])
    set_customer(shop, sale, vip_customer)

    sale_services.sale_add_product(actor=shop.actor, account=shop.account, sale_id=sale.pk, product_id=scarf.pk)
    sale_services.sale_add_product(actor=shop.actor, account=shop.account, sale_id=sale.pk, product_id=jam.pk,
                                   quantity=2)

    assert lines_of(sale) == [("Confiture", 0, 100, 47, 899), ("Écharpe", 0, 450, 675, 4050)]
    assert totals(sale) == (550, 722, 4949)
    added = AuditEvent.objects.filter(action="sale.line_added").order_by("pk").last()
    assert added.after["customer_discount"] == 100


def test_the_cashiers_discount_and_the_type_discount_add_up(shop, scarf, vip_customer):
    sale = rf.leave_in_progress(shop, [(scarf, 2)])
    set_customer(shop, sale, vip_customer)
    line = SaleLine.objects.get(sale=sale)

    sale_services.sale_update_line(actor=shop.actor, account=shop.account, sale_id=sale.pk, line_id=line.pk,
                                   quantity=2, discount=1000)

    # 90 € − 10 € typed by the cashier = 80 €; the VIP's 10 % of that is 8 €; 72 € paid, tax 12 €.
    assert lines_of(sale) == [("Écharpe", 1000, 800, 1200, 7200)]
    assert totals(sale) == (1800, 1200, 7200)


def test_removing_the_customer_removes_the_discount(shop, jam, vip_customer):
    sale = rf.leave_in_progress(shop, [(jam, 3)])
    set_customer(shop, sale, vip_customer)

    set_customer(shop, sale, None)

    assert lines_of(sale) == [("Confiture", 0, 0, 52, 999)]
    assert totals(sale) == (0, 52, 999)
    sale = Sale.objects.get(pk=sale.pk)
    assert (sale.customer_id, sale.customer_type_id, sale.customer_type_name, sale.customer_discount_bp) == \
        (None, None, "", 0)
    removed = discount_events(shop.account)[-1]
    assert (removed.before["customer_discount"], removed.after["customer_discount"]) == (100, 0)


def test_a_type_without_discount_is_recorded_without_repricing(shop, jam):
    regular = customer_services.customer_type_create(actor=shop.actor, account=shop.account, name="Particulier")
    sale = rf.leave_in_progress(shop, [(jam, 3)])

    set_customer(shop, sale, rf.customer(shop, customer_type_id=regular.pk))

    sale = Sale.objects.get(pk=sale.pk)
    assert (sale.customer_type_name, sale.customer_discount_bp, sale.total) == ("Particulier", 0, 999)
    assert sale.customer_discount_label == ""
    assert discount_events(shop.account) == []


def test_prices_excluding_tax_are_discounted_before_the_tax_is_added(shop, jam, vip_customer):
    shop_settings_update(actor=shop.actor, account=shop.account, prices_include_tax=False, receipt_footer="")
    sale = rf.leave_in_progress(shop, [(jam, 3)])

    set_customer(shop, sale, vip_customer)

    # 9,99 € − 1,00 € = 8,99 €, plus 5,5 % = 0,49 €.
    assert lines_of(sale) == [("Confiture", 0, 100, 49, 948)]
    assert totals(sale) == (100, 49, 948)


def test_changing_the_customer_once_paid_is_refused_when_the_discount_would_change(shop, jam, vip_customer):
    sale = rf.leave_in_progress(shop, [(jam, 3)], cash_taken=500)
    before = pos_state(shop.account)

    with pytest.raises(DomainError, match="Payments were taken: remove them before changing the customer’s discount."):
        set_customer(shop, sale, vip_customer)

    assert pos_state(shop.account) == before
    assert Sale.objects.get(pk=sale.pk).customer_id is None
    # A customer without a discount can still be attached (e.g. to leave the rest on account).
    set_customer(shop, sale, rf.customer(shop, first_name="Sans", last_name="Remise"))
    assert Sale.objects.get(pk=sale.pk).total == 999


def test_a_completed_sale_keeps_its_discount(shop, jam, vip_customer):
    sale = rf.sell(shop, [(jam, 3)], buyer=vip_customer)
    vip = CustomerType.objects.get(name="VIP")

    customer_services.customer_type_update(actor=shop.actor, account=shop.account, customer_type_id=vip.pk,
                                           name="Gold", discount_bp=2500)
    customer_services.customer_type_assign(actor=shop.actor, account=shop.account, customer_id=vip_customer.pk,
                                           customer_type_id=None)

    sale = Sale.objects.get(pk=sale.pk)
    assert (sale.status, sale.total, sale.customer_type_name, sale.customer_discount_bp) == ("completed", 899, "VIP",
                                                                                             1000)
    assert lines_of(sale) == [("Confiture", 0, 100, 47, 899)]


def test_the_receipt_email_shows_the_customer_discount(shop, jam, vip_customer, django_capture_on_commit_callbacks):
    sale = rf.leave_in_progress(shop, [(jam, 3)])
    set_customer(shop, sale, vip_customer)
    sale_services.sale_add_payment(actor=shop.actor, account=shop.account, sale_id=sale.pk,
                                   payment_type_id=shop.cash.pk, amount=899)
    with django_capture_on_commit_callbacks(execute=True):
        sale_services.sale_complete(actor=shop.actor, account=shop.account, sale_id=sale.pk,
                                    receipt_email="lea@example.com")

    email = OutgoingEmail.objects.get(recipients=["lea@example.com"])  # in the shop's language: French
    assert "Remise client VIP −10\u00a0%: −1,00\u00a0€" in email.text
    assert "Remise client VIP −10\u00a0% −1,00\u00a0€" in email.html


# ---- the customer's type changes while a sale is open -------------------------------------------------------

def test_assigning_a_type_is_audited_and_open_and_parked_sales_follow(shop, jam, vip):
    customer = rf.customer(shop, first_name="Abel", last_name="Petit")
    parked = rf.leave_in_progress(shop, [(jam, 1)])
    set_customer(shop, parked, customer)
    sale_services.sale_park(actor=shop.actor, account=shop.account, sale_id=parked.pk)
    sale = rf.leave_in_progress(shop, [(jam, 3)])
    set_customer(shop, sale, customer)

    customer_services.customer_type_assign(actor=shop.actor, account=shop.account, customer_id=customer.pk,
                                           customer_type_id=vip.pk)

    customer.refresh_from_db()
    assert customer.customer_type == vip
    event = AuditEvent.objects.get(action="customer.type_changed")
    assert (event.object_id, event.before, event.after) == (
        str(customer.pk), {"customer_type": None, "customer_type_name": ""},
        {"customer_type": vip.pk, "customer_type_name": "VIP"})
    assert totals(sale) == (100, 47, 899)
    assert totals(parked) == (33, 16, 300)

    # Assigning it again writes nothing; taking it off takes the discount off.
    customer_services.customer_type_assign(actor=shop.actor, account=shop.account, customer_id=customer.pk,
                                           customer_type_id=vip.pk)
    assert AuditEvent.objects.filter(action="customer.type_changed").count() == 1
    customer_services.customer_type_assign(actor=shop.actor, account=shop.account, customer_id=customer.pk,
                                           customer_type_id=None)
    assert totals(sale) == (0, 52, 999) and totals(parked) == (0, 17, 333)


def test_a_sale_with_payments_taken_keeps_the_discount_it_was_paid_with(shop, jam, vip, vip_customer):
    sale = rf.leave_in_progress(shop, [(jam, 3)])
    set_customer(shop, sale, vip_customer)
    sale_services.sale_add_payment(actor=shop.actor, account=shop.account, sale_id=sale.pk,
                                   payment_type_id=shop.cash.pk, amount=500)

    customer_services.customer_type_assign(actor=shop.actor, account=shop.account, customer_id=vip_customer.pk,
                                           customer_type_id=None)

    assert totals(sale) == (100, 47, 899)
    assert Sale.objects.get(pk=sale.pk).customer_discount_bp == 1000


def test_changing_a_types_discount_reprices_its_customers_open_sales(shop, jam, vip, vip_customer):
    sale = rf.leave_in_progress(shop, [(jam, 3)])
    set_customer(shop, sale, vip_customer)

    customer_services.customer_type_update(actor=shop.actor, account=shop.account, customer_type_id=vip.pk,
                                           name="VIP+", discount_bp=2050)

    # 20,5 % of 9,99 € = 2,04795 → 2,05 €.
    assert totals(sale) == (205, 41, 794)
    sale = Sale.objects.get(pk=sale.pk)
    assert (sale.customer_type_name, sale.customer_discount_bp) == ("VIP+", 2050)
    event = AuditEvent.objects.get(action="customer_type.changed")
    assert (event.before, event.after) == ({"name": "VIP", "discount_bp": 1000}, {"name": "VIP+", "discount_bp": 2050})


def test_the_customer_form_changing_the_type_reprices_the_open_sale(client, owner, shop, jam, vip, vip_customer):
    sale = rf.leave_in_progress(shop, [(jam, 3)])
    set_customer(shop, sale, vip_customer)
    client.force_login(in_english(owner))

    response = client.post(reverse("retail:customer_edit", args=[vip_customer.pk]), {
        "first_name": "Léa", "last_name": "Roux", "company": "", "email": "", "phone": "", "customer_type": "",
        "address_line1": "", "address_line2": "", "postcode": "", "city": "", "country": "", "notes": ""})

    assert response.status_code == 302
    assert totals(sale) == (0, 52, 999)


@pytest.mark.parametrize("discount_bp", [-1, 10_001])
def test_a_discount_outside_0_to_100_percent_is_refused_by_the_services(shop, vip, discount_bp):
    before = pos_state(shop.account)
    with pytest.raises(DomainError, match="A discount must be between 0 and 100 %."):
        customer_services.customer_type_create(actor=shop.actor, account=shop.account, name="X",
                                               discount_bp=discount_bp)
    with pytest.raises(DomainError, match="A discount must be between 0 and 100 %."):
        customer_services.customer_type_update(actor=shop.actor, account=shop.account, customer_type_id=vip.pk,
                                               name="VIP", discount_bp=discount_bp)
    assert pos_state(shop.account) == before
    assert list(CustomerType.objects.values_list("name", "discount_bp")) == [("VIP", 1000)]


def test_another_accounts_type_cannot_be_assigned(shop, other_account):
    theirs = CustomerTypeFactory(account=other_account, name="Theirs")
    customer = rf.customer(shop)
    with pytest.raises(CustomerType.DoesNotExist):
        customer_services.customer_type_assign(actor=shop.actor, account=shop.account, customer_id=customer.pk,
                                               customer_type_id=theirs.pk)
    customer.refresh_from_db()
    assert customer.customer_type is None
    assert not AuditEvent.objects.filter(action="customer.type_changed").exists()


# ---- the types page -----------------------------------------------------------------------------------------

def test_adding_and_changing_a_types_discount_on_the_page(client, owner, account):
    client.force_login(in_english(owner))

    assert client.post(reverse("retail:customer_types"), {"name": "VIP", "discount": "7,5"}).status_code == 302
    vip = CustomerType.objects.get(account=account)
    assert vip.discount_bp == 750
    page = page_text(client.get(reverse("retail:customer_types")))
    assert 'value="7.5"' in client.get(reverse("retail:customer_types")).content.decode()
    assert "VIP" in page

    update = reverse("retail:customer_type_update", args=[vip.pk])
    assert client.post(update, {"name": "VIP", "discount": "12.25 %"}).status_code == 302
    vip.refresh_from_db()
    assert vip.discount_bp == 1225
    assert client.post(update, {"name": "VIP", "discount": ""}).status_code == 302
    vip.refresh_from_db()
    assert vip.discount_bp == 0


@pytest.mark.parametrize(("typed", "message"), [
    ("150", "A discount must be between 0 and 100 %."),
    ("abc", "“abc” is not a valid rate."),
    ("10,125", "“10,125” is not a valid rate."),
    ("-5", "“-5” is not a valid rate."),
])
def test_a_bad_discount_on_the_page_is_refused_and_nothing_changes(client, owner, account, vip, typed, message):
    client.force_login(in_english(owner))
    before = pos_state(account)

    added = client.post(reverse("retail:customer_types"), {"name": "Gold", "discount": typed})
    changed = client.post(reverse("retail:customer_type_update", args=[vip.pk]), {"name": "VIP", "discount": typed})

    assert added.status_code == changed.status_code == 400
    assert message in page_text(added) and message in page_text(changed)
    assert list(CustomerType.objects.values_list("name", "discount_bp")) == [("VIP", 1000)]
    assert pos_state(account) == before


# ---- the sell screen ----------------------------------------------------------------------------------------

@pytest.fixture
def till(client, owner, shop):
    client.force_login(in_english(owner))
    choose_register(client, shop.register)
    return client


def test_the_sell_screen_shows_the_discount_on_each_line_and_takes_it_off_with_the_customer(till, shop, jam,
                                                                                            vip_customer):
    till.post(reverse("retail:sell_add"), {"product": jam.pk, "quantity": 3}, headers=HX)

    attached = till.post(reverse("retail:sell_set_customer"), {"customer": vip_customer.pk}, headers=HX)

    assert attached.status_code == 200
    text = words(attached)
    assert "Customer discount VIP −10% −€1.00" in text
    assert "€8.99" in text
    removed = till.post(reverse("retail:sell_set_customer"), {"customer": ""}, headers=HX)
    assert "Customer discount" not in words(removed) and "€9.99" in words(removed)


def test_the_sell_screen_in_french_says_remise_client(till, owner, shop, jam, vip_customer):
    owner.language = "fr"
    owner.save(update_fields=["language"])
    till.post(reverse("retail:sell_add"), {"product": jam.pk, "quantity": 3}, headers=HX)

    attached = till.post(reverse("retail:sell_set_customer"), {"customer": vip_customer.pk}, headers=HX)

    assert "Remise client VIP −10\u00a0% −1,00\u00a0€" in words(attached)


def test_a_refused_customer_change_answers_the_cart_with_the_message(till, shop, jam, vip_customer):
    till.post(reverse("retail:sell_add"), {"product": jam.pk, "quantity": 3}, headers=HX)
    till.post(reverse("retail:sell_pay"), {"payment_type": shop.cash.pk, "amount": "5.00"}, headers=HX)
    before = pos_state(shop.account)

    response = till.post(reverse("retail:sell_set_customer"), {"customer": vip_customer.pk}, headers=HX)

    assert response.status_code == 422
    assert "remove them before changing the customer’s discount" in page_text(response)
    assert pos_state(shop.account) == before


def test_the_sale_page_shows_the_customer_type_and_the_line_discount(client, owner, shop, jam, vip_customer):
    sale = rf.sell(shop, [(jam, 3)], buyer=vip_customer)
    client.force_login(in_english(owner))

    text = words(client.get(reverse("retail:sale_detail", args=[sale.pk])))

    assert "Customer type VIP Customer discount VIP −10%" in text
    assert "€1.00 Customer discount VIP −10%" in text


def test_ensuring_a_type_by_name_finds_it_whatever_its_case_or_creates_it(shop, vip):
    assert customer_services.customer_type_ensure(actor=shop.actor, account=shop.account, name=" vip ") == vip

    subscribers = customer_services.customer_type_ensure(actor=shop.actor, account=shop.account, name="Abonnés")

    assert (subscribers.name, subscribers.discount_bp) == ("Abonnés", 0)
    assert AuditEvent.objects.filter(action="customer_type.created", object_id=str(subscribers.pk)).exists()
    with pytest.raises(DomainError, match="A customer type needs a name."):
        customer_services.customer_type_ensure(actor=shop.actor, account=shop.account, name="  ")


def test_the_customer_page_says_what_the_type_gives(client, owner, shop, vip_customer):
    client.force_login(in_english(owner))

    text = words(client.get(reverse("retail:customer_detail", args=[vip_customer.pk])))

    assert "VIP −10% on every item at the sell screen" in text
