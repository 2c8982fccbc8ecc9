"""The sell screen (retail/views/sell.py) as a cashier's browser uses it: the register chosen once (a
signed cookie), opened with a float, products found by name, SKU or barcode, the cart changed through htmx
(each action answering the cart partial, 422 with the message on bad input and nothing changed), customers,
cash with change, completion, parking, and who may use which ids."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts import permissions as perms
from accounts.models import AuditEvent
from posbackoffice.errors import DomainError
from retail.models import Customer, Product, RegisterSession, Sale, SaleLine
from retail.sell_device import REGISTER_COOKIE
from retail.services import sales as sale_services
from tests.factories import member
from tests.retail import report_factories as rf
from tests.retail.builders import choose_register, page_text, pos_state, staff_with, tracked_product
from tests.retail.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    """Services build their messages in the active language, and a request in an earlier test of this process
    may have left French active: the assertions below read the English source strings."""
    with translation.override("en"):
        yield

HX = {"HX-Request": "true"}


@pytest.fixture
def shop(account):
    return rf.make_shop(account)


@pytest.fixture
def session(shop):
    return rf.open_register(shop, opening_float=5000)


@pytest.fixture
def jam(shop):
    item = rf.product(shop, sku="CONF-1", name="Confiture d'abricot", price=333, rate_bp=550)
    Product.objects.filter(pk=item.pk).update(barcode="3760001234567")
    item.refresh_from_db()
    return item


@pytest.fixture
def mug(shop):
    return tracked_product(shop, sku="MUG-1", name="Mug émaillé", price=1250, rate_bp=2000, stock=7)


@pytest.fixture
def cashier(account):
    return member(account, perms.CASHIER, language="en")


@pytest.fixture
def till(client, cashier, shop, session):
    """A cashier's browser on the shop's open register."""
    client.force_login(cashier)
    choose_register(client, shop.register)
    assert client.get(reverse("retail:sell")).status_code == 200  # the screen, with its empty cart
    return client


def current_sale(shop) -> Sale:
    return Sale.objects.get(register=shop.register, status=Sale.Status.OPEN)


def post(client, name, data=None, *args):
    return client.post(reverse(f"retail:{name}", args=args), data or {}, headers=HX)


def cart_with(client, shop, *items) -> Sale:
    for item, quantity in items:
        assert post(client, "sell_add", {"product": item.pk, "quantity": quantity}).status_code == 200
    return current_sale(shop)


def is_cart_partial(response) -> bool:
    text = response.content.decode()
    return 'id="cart"' in text and "<html" not in text


def refused(response, status: int, message: str, account, before) -> None:
    assert response.status_code == status
    assert message in page_text(response)
    assert pos_state(account) == before


# ---- the register ------------------------------------------------------------------------------------------

def test_choosing_and_opening_a_register(client, cashier, shop, other_account):
    client.force_login(cashier)

    picker = client.get(reverse("retail:sell"))
    assert picker.status_code == 200
    assert "Choose your register" in page_text(picker) and shop.register.name in page_text(picker)

    choose_register(client, shop.register)
    closed = client.get(reverse("retail:sell"))
    assert "The register is closed." in page_text(closed)

    response = client.post(reverse("retail:sell_open"), {"opening_float": "150.50"})

    assert response.status_code == 302 and response.url == reverse("retail:sell")
    session = RegisterSession.objects.get(register=shop.register)
    assert (session.status, session.opening_float, session.opened_by) == ("open", 15050, cashier)
    screen = client.get(reverse("retail:sell"))
    assert screen.status_code == 200 and "The cart is empty." in page_text(screen)


def test_the_register_is_remembered_by_the_browser_across_logins(client, cashier, shop, session, account):
    client.force_login(cashier)
    choose_register(client, shop.register)
    device = client.cookies[REGISTER_COOKIE].value
    client.logout()  # the test client forgets every cookie here; a browser keeps the register's

    client.force_login(member(account, perms.CASHIER, language="en"))
    client.cookies[REGISTER_COOKIE] = device

    assert client.get(reverse("retail:sell")).context["register"] == shop.register


@pytest.mark.parametrize("register", ["²", "١", "abc", str(2**63), ""])
def test_a_register_that_is_not_an_id_is_not_chosen(client, cashier, shop, register):
    client.force_login(cashier)

    response = client.post(reverse("retail:sell_choose_register"), {"register": register}, follow=True)

    assert "Choose a register." in page_text(response)
    assert REGISTER_COOKIE not in client.cookies


def test_another_accounts_register_cannot_be_chosen(client, cashier, other_account):
    elsewhere = rf.make_shop(other_account)
    client.force_login(cashier)

    assert client.post(reverse("retail:sell_choose_register"), {"register": elsewhere.register.pk}).status_code == 404
    assert "Choose your register" in page_text(client.get(reverse("retail:sell")))


def test_a_french_cashier_opens_with_a_decimal_comma(client, account, shop):
    client.force_login(member(account, perms.CASHIER))  # follows the account: French
    choose_register(client, shop.register)

    client.post(reverse("retail:sell_open"), {"opening_float": "1 234,50"})

    assert RegisterSession.objects.get(register=shop.register).opening_float == 123450


@pytest.mark.parametrize("typed,message", [
    ("-5", "The amount cannot be negative."),
    ("abc", "“abc” is not a valid amount."),
    ("", "This field is required."),
])
def test_a_bad_float_is_refused(client, cashier, shop, typed, message):
    client.force_login(cashier)
    choose_register(client, shop.register)
    before = pos_state(shop.account)

    response = client.post(reverse("retail:sell_open"), {"opening_float": typed})

    refused(response, 422, message, shop.account, before)


def test_opening_an_open_register_again_is_refused(client, cashier, shop, session):
    client.force_login(cashier)
    choose_register(client, shop.register)
    before = pos_state(shop.account)

    response = client.post(reverse("retail:sell_open"), {"opening_float": "10.00"})

    refused(response, 422, f"{shop.register.name} is already open.", shop.account, before)


def test_showing_the_screen_writes_nothing_the_first_action_starts_the_sale(till, cashier, shop, jam):
    before = pos_state(shop.account)

    screen = till.get(reverse("retail:sell"))
    again = till.get(reverse("retail:sell"))

    assert screen.status_code == again.status_code == 200
    assert "The cart is empty." in page_text(screen)
    assert pos_state(shop.account) == before  # no sale, no audit row

    added = post(till, "sell_add", {"product": jam.pk})

    assert added.status_code == 200 and "Confiture d'abricot" in page_text(added)
    sale = current_sale(shop)
    assert (sale.lines.get().product, sale.created_by) == (jam, cashier)
    assert list(AuditEvent.objects.filter(account=shop.account).order_by("pk").values_list("action", flat=True)
                [before["audit"]:]) == ["sale.started", "sale.line_added"]


@pytest.mark.parametrize("name,data,message", [
    ("sell_add", {"quantity": "0"}, "The quantity must be at least 1."),
    ("sell_scan", {"q": "NOPE-1"}, "No product has the SKU or barcode “NOPE-1”."),
    ("sell_quick_customer", {"last_name": "", "email": "x@y.fr"},
     "A customer needs a first name, a last name or a company."),
    ("sell_pay", {"amount": "1.00"}, "The cart is empty."),
    ("sell_complete", {}, "The cart is empty."),
    ("sell_park", {}, "The cart is empty."),
    ("sell_discard", {}, "The cart is empty."),
])
def test_a_refused_first_action_starts_no_sale(till, shop, jam, name, data, message):
    if name == "sell_add":
        data = {**data, "product": jam.pk}
    if name == "sell_pay":
        data = {**data, "payment_type": shop.cash.pk}
    before = pos_state(shop.account)

    refused(post(till, name, data), 422, message, shop.account, before)


def test_taking_the_customer_off_an_empty_cart_starts_nothing(till, shop):
    before = pos_state(shop.account)

    response = post(till, "sell_set_customer", {"customer": ""})

    assert response.status_code == 200 and "The cart is empty." in page_text(response)
    assert pos_state(shop.account) == before


def test_a_customer_attached_first_starts_the_sale(till, shop):
    buyer = CustomerFactory(account=shop.account, first_name="Camille", last_name="Martin")

    response = post(till, "sell_set_customer", {"customer": buyer.pk})

    assert response.status_code == 200 and "Camille Martin" in page_text(response)
    assert current_sale(shop).customer == buyer


def test_cart_actions_on_a_closed_register_send_htmx_back_to_the_screen(client, cashier, shop, jam):
    client.force_login(cashier)
    choose_register(client, shop.register)
    before = pos_state(shop.account)

    response = post(client, "sell_add", {"product": jam.pk})

    assert response.status_code == 204 and response["HX-Redirect"] == reverse("retail:sell")
    assert pos_state(shop.account) == before


# ---- finding products ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["abricot", "conf-1", "3760001234567", "376000"])
def test_search_by_name_sku_or_barcode(till, jam, mug, query):
    response = till.get(reverse("retail:sell_search"), {"q": query}, headers=HX)

    assert response.status_code == 200
    assert [row["product"] for row in response.context["results"]] == [jam]
    assert "Confiture d'abricot" in page_text(response) and "€3.33" in page_text(response)


def test_search_shows_stock_of_tracked_products_only(till, jam, mug, shop, other_account):
    ProductFactory(account=other_account, name="Mug d'ailleurs", sku="MUG-9")
    retired = rf.product(shop, sku="MUG-0", name="Mug retiré", price=100, rate_bp=2000)
    Product.objects.filter(pk=retired.pk).update(is_active=False)

    response = till.get(reverse("retail:sell_search"), {"q": "mug"}, headers=HX)

    assert [(row["product"], row["stock"]) for row in response.context["results"]] == [(mug, 7)]
    assert "7 in stock" in page_text(response)


@pytest.mark.parametrize("name", ["sell_search", "sell_customer_search"])
def test_control_characters_in_a_search_are_cleaned_away(till, jam, name):
    response = till.get(reverse(f"retail:{name}"), {"q": "abri\x00cot\x1b"}, headers=HX)

    assert response.status_code == 200
    assert "abri cot" in page_text(response)


def test_a_scanners_control_characters_are_cleaned_away(till, shop, jam):
    response = post(till, "sell_scan", {"q": "3760001234567\x00\r"})

    assert response.status_code == 200
    assert [line.name for line in current_sale(shop).lines.all()] == ["Confiture d'abricot"]


def test_search_without_match_says_so(till, jam):
    response = till.get(reverse("retail:sell_search"), {"q": "zzz"}, headers=HX)

    assert "No product matches “zzz”." in page_text(response)


def test_scanning_a_barcode_or_sku_adds_the_product(till, shop, jam, mug):
    response = post(till, "sell_scan", {"q": " 3760001234567 "})
    post(till, "sell_scan", {"q": "mug-1"})
    post(till, "sell_scan", {"q": "MUG-1"})

    assert response.status_code == 200 and is_cart_partial(response)
    sale = current_sale(shop)
    assert [(line.name, line.quantity) for line in sale.lines.all()] == [("Confiture d'abricot", 1),
                                                                          ("Mug émaillé", 2)]
    assert sale.total == 333 + 2500


def test_scanning_an_unknown_code_is_refused(till, shop, jam):
    before = pos_state(shop.account)

    response = post(till, "sell_scan", {"q": "0000"})

    refused(response, 422, "No product has the SKU or barcode “0000”.", shop.account, before)
    assert is_cart_partial(response)


# ---- the cart ------------------------------------------------------------------------------------------------

def test_adding_a_product_answers_the_cart(till, shop, jam):
    response = post(till, "sell_add", {"product": jam.pk, "quantity": "3"})

    assert response.status_code == 200 and is_cart_partial(response)
    text = page_text(response)
    assert "Confiture d'abricot" in text and "€9.99" in text
    assert current_sale(shop).total == 999


@pytest.mark.parametrize("quantity,message", [
    ("abc", "The quantity must be a whole number."),
    ("0", "The quantity must be at least 1."),
    ("10000", "The quantity cannot be above 9999."),
    ("2147483648", "The quantity cannot be above 9999."),
    ("²", "The quantity must be a whole number."),
    ("１２", "The quantity must be a whole number."),
])
def test_a_bad_quantity_is_refused(till, shop, jam, quantity, message):
    cart_with(till, shop, (jam, 1))
    before = pos_state(shop.account)

    response = post(till, "sell_add", {"product": jam.pk, "quantity": quantity})

    refused(response, 422, message, shop.account, before)
    assert is_cart_partial(response)


def test_another_accounts_product_is_not_found(till, shop, other_account):
    foreign = ProductFactory(account=other_account)
    before = pos_state(shop.account)

    assert post(till, "sell_add", {"product": foreign.pk}).status_code == 404
    assert pos_state(shop.account) == before


@pytest.mark.parametrize("name,data", [
    ("sell_add", {"product": "abc"}),
    ("sell_add", {"product": ""}),
    ("sell_set_customer", {"customer": "abc"}),
    ("sell_add", {"product": "²"}),
    ("sell_add", {"product": "١٢"}),
    ("sell_add", {"product": str(2**63)}),
    ("sell_set_customer", {"customer": "²"}),
    ("sell_set_customer", {"customer": "99999999999999999999"}),
])
def test_a_tampered_id_is_not_found(till, shop, jam, name, data):
    cart_with(till, shop, (jam, 1))
    before = pos_state(shop.account)

    assert post(till, name, data).status_code == 404
    assert pos_state(shop.account) == before


def test_changing_a_line(till, shop, jam):
    sale = cart_with(till, shop, (jam, 1))
    line = sale.lines.get()

    response = post(till, "sell_line", {"quantity": "3", "discount": "1.00"}, line.pk)

    assert response.status_code == 200 and is_cart_partial(response)
    line.refresh_from_db()
    assert (line.quantity, line.discount, line.line_total) == (3, 100, 899)
    assert "€8.99" in page_text(response)


def test_a_percentage_discount_becomes_minor_units(till, shop, jam):
    line = cart_with(till, shop, (jam, 3)).lines.get()

    post(till, "sell_line", {"quantity": "3", "discount_percent": "10"}, line.pk)

    line.refresh_from_db()
    assert (line.discount, line.line_total) == (100, 899)  # 10 % of 9,99 € = 0,999 → 1,00 €


@pytest.mark.parametrize("data,message", [
    ({"quantity": "abc"}, "The quantity must be a whole number."),
    ({"quantity": "0"}, "The quantity must be at least 1."),
    ({"quantity": "1", "discount": "5.00"}, "The discount cannot be more than the line’s amount."),
    ({"quantity": "1", "discount": "x"}, "“x” is not a valid amount."),
])
def test_a_bad_line_change_is_refused(till, shop, jam, data, message):
    line = cart_with(till, shop, (jam, 1)).lines.get()
    before = pos_state(shop.account)

    response = post(till, "sell_line", data, line.pk)

    refused(response, 422, message, shop.account, before)


def test_a_french_cashier_typing_three_decimals_is_refused(client, account, shop, session, jam):
    client.force_login(member(account, perms.CASHIER))  # French
    choose_register(client, shop.register)
    line = cart_with(client, shop, (jam, 3)).lines.get()
    before = pos_state(shop.account)

    discount = post(client, "sell_line", {"quantity": "3", "discount": "1,234"}, line.pk)
    payment = post(client, "sell_pay", {"payment_type": shop.cash.pk, "amount": "12,345"})

    with translation.override("fr"):
        too_precise = gettext("“%(value)s” has more than %(digits)s decimals.")
    assert "décimales" in too_precise  # the French catalogue answers, not the English source
    refused(discount, 422, too_precise % {"value": "1,234", "digits": 2}, shop.account, before)
    refused(payment, 422, too_precise % {"value": "12,345", "digits": 2}, shop.account, before)


def test_removing_a_line(till, shop, jam, mug):
    sale = cart_with(till, shop, (jam, 1), (mug, 1))

    response = post(till, "sell_line_remove", {}, sale.lines.get(product=mug).pk)

    assert response.status_code == 200 and is_cart_partial(response)
    assert [line.product for line in current_sale(shop).lines.all()] == [jam]
    assert current_sale(shop).total == 333


def test_a_line_of_another_sale_is_not_found(till, shop, jam):
    completed = rf.sell(shop, [(jam, 1)])
    cart_with(till, shop, (jam, 1))
    line = completed.lines.get()
    before = pos_state(shop.account)

    assert post(till, "sell_line", {"quantity": "5"}, line.pk).status_code == 404
    assert post(till, "sell_line_remove", {}, line.pk).status_code == 404
    assert pos_state(shop.account) == before


# ---- customers -----------------------------------------------------------------------------------------------

def test_searching_and_setting_a_customer(till, shop, jam, other_account):
    camille = CustomerFactory(account=shop.account, first_name="Camille", last_name="Martin", balance=1500)
    CustomerFactory(account=shop.account, first_name="Paul", last_name="Durand")
    CustomerFactory(account=other_account, first_name="Camille", last_name="Martin")
    cart_with(till, shop, (jam, 1))

    found = till.get(reverse("retail:sell_customer_search"), {"q": "martin"}, headers=HX)
    assert found.context["customers"] == [camille]

    response = post(till, "sell_set_customer", {"customer": camille.pk})

    assert response.status_code == 200 and is_cart_partial(response)
    assert current_sale(shop).customer == camille
    assert "Camille Martin" in page_text(response) and "owes €15.00" in page_text(response)

    post(till, "sell_set_customer", {"customer": ""})
    assert current_sale(shop).customer is None


def test_another_accounts_customer_is_not_found(till, shop, jam, other_account):
    cart_with(till, shop, (jam, 1))
    foreign = CustomerFactory(account=other_account)
    before = pos_state(shop.account)

    assert post(till, "sell_set_customer", {"customer": foreign.pk}).status_code == 404
    assert pos_state(shop.account) == before


def test_quick_creating_a_customer_attaches_them(till, shop, jam):
    cart_with(till, shop, (jam, 1))

    response = post(till, "sell_quick_customer", {"first_name": "Léa", "last_name": "Roux",
                                                  "email": "Lea.Roux@Exemple.fr", "phone": "06 11 22 33 44"})

    assert response.status_code == 200 and is_cart_partial(response)
    customer = Customer.objects.get(account=shop.account, last_name="Roux")
    assert (customer.first_name, customer.email, customer.phone) == ("Léa", "lea.roux@exemple.fr", "06 11 22 33 44")
    assert current_sale(shop).customer == customer
    assert "Léa Roux" in page_text(response)


@pytest.mark.parametrize("data,message", [
    ({"last_name": "", "email": "x@y.fr"}, "A customer needs a first name, a last name or a company."),
    ({"first_name": "Léa", "email": "lea@exemple"}, "“lea@exemple” is not a valid e-mail address."),
    ({"first_name": "Léa", "email": "a@x.fr; b@y.fr"}, "Enter exactly one e-mail address."),
])
def test_a_bad_quick_customer_is_refused(till, shop, jam, data, message):
    cart_with(till, shop, (jam, 1))
    before = pos_state(shop.account)

    response = post(till, "sell_quick_customer", data)

    refused(response, 422, message, shop.account, before)


def test_quick_creating_for_a_sale_that_cannot_take_one_creates_no_customer(shop, session, jam):
    parked = rf.park(shop, [(jam, 1)])
    before = pos_state(shop.account)

    with translation.override("en"), pytest.raises(DomainError, match="cannot be changed this way"):
        sale_services.sale_set_new_customer(actor=None, account=shop.account, sale_id=parked.pk,
                                            first_name="Léa", last_name="Roux")
    assert pos_state(shop.account) == before


def test_quick_creating_a_customer_needs_the_customers_permission(client, account, shop, session, jam):
    client.force_login(staff_with(account, "sell"))
    choose_register(client, shop.register)
    cart_with(client, shop, (jam, 1))
    before = pos_state(account)

    assert post(client, "sell_quick_customer", {"first_name": "Léa"}).status_code == 403
    assert pos_state(account) == before


# ---- paying and completing -------------------------------------------------------------------------------------

def test_cash_with_change_then_complete(till, shop, jam, mug):
    cart_with(till, shop, (jam, 3), (mug, 1))  # 22,49 €

    paid = post(till, "sell_pay", {"payment_type": shop.cash.pk, "amount": "50"})

    assert paid.status_code == 200 and is_cart_partial(paid)
    assert "Change due" in page_text(paid) and "€27.51" in page_text(paid)
    sale = current_sale(shop)
    payment = sale.payments.get()
    assert (payment.amount, payment.tendered) == (2249, 5000)
    assert "Complete sale" in page_text(paid)

    done = post(till, "sell_complete", {"receipt_email": ""})

    assert done.status_code == 200 and is_cart_partial(done)
    sale.refresh_from_db()
    assert (sale.status, sale.receipt_number) == (Sale.Status.COMPLETED, 1)
    assert "Sale 1 completed." in page_text(done)
    assert not Sale.objects.filter(register=shop.register, status=Sale.Status.OPEN).exists()  # none started yet
    assert mug.stock_levels.get(outlet=shop.outlet).quantity == 6


def test_a_split_payment_with_a_custom_type(till, shop, jam):
    cart_with(till, shop, (jam, 3))

    post(till, "sell_pay", {"payment_type": shop.cash.pk, "amount": "5.00"})
    post(till, "sell_pay", {"payment_type": shop.cheque.pk, "amount": "4.99"})
    post(till, "sell_complete")

    sale = Sale.objects.get(account=shop.account, receipt_number=1)
    assert [(p.payment_type, p.amount) for p in sale.payments.all()] == [(shop.cash, 500), (shop.cheque, 499)]


def test_removing_a_payment(till, shop, jam):
    cart_with(till, shop, (jam, 3))
    post(till, "sell_pay", {"payment_type": shop.cheque.pk, "amount": "5.00"})
    payment = current_sale(shop).payments.get()

    response = post(till, "sell_payment_remove", {}, payment.pk)

    assert response.status_code == 200
    assert (current_sale(shop).paid_total, current_sale(shop).payments.count()) == (0, 0)


@pytest.mark.parametrize("data,message", [
    ({"amount": ""}, "This field is required."),
    ({"amount": "0"}, "The amount must be more than zero."),
    ({"amount": "abc"}, "“abc” is not a valid amount."),
    ({"amount": "9.999"}, "“9.999” has more than 2 decimals."),
    ({"amount": "99999999999999999999"}, "The amount cannot be more than €1,000,000,000.00."),
    ({"amount": "1000000000.01"}, "The amount cannot be more than €1,000,000,000.00."),
    ({"amount": "１２"}, "“１２” is not a valid amount."),
    ({"amount": "9.99", "payment_type": "²"}, "Select a valid choice."),
    ({"amount": "9.99", "payment_type": str(2**63)}, "Select a valid choice."),
])
def test_a_bad_payment_amount_is_refused(till, shop, jam, data, message):
    cart_with(till, shop, (jam, 3))
    before = pos_state(shop.account)

    response = post(till, "sell_pay", {"payment_type": shop.cash.pk, **data})

    refused(response, 422, message, shop.account, before)
    assert is_cart_partial(response)


def test_an_amount_of_a_billion_is_taken(till, shop):
    big = rf.product(shop, sku="YACHT", name="Yacht", price=100_000_000_000, rate_bp=2000)
    cart_with(till, shop, (big, 1))

    response = post(till, "sell_pay", {"payment_type": shop.cash.pk, "amount": "1,000,000,000.00"})

    assert response.status_code == 200
    assert current_sale(shop).paid_total == 100_000_000_000


def test_a_custom_type_cannot_overpay(till, shop, jam):
    cart_with(till, shop, (jam, 3))
    before = pos_state(shop.account)

    response = post(till, "sell_pay", {"payment_type": shop.cheque.pk, "amount": "10.00"})

    refused(response, 422, "The amount is more than what is left to pay (€9.99).", shop.account, before)


def test_another_accounts_payment_type_is_not_found(till, shop, jam, other_account):
    cart_with(till, shop, (jam, 3))
    theirs = rf.make_shop(other_account)
    before = pos_state(shop.account)

    assert post(till, "sell_pay", {"payment_type": theirs.cash.pk, "amount": "9.99"}).status_code == 404
    assert pos_state(shop.account) == before


def test_completing_with_money_due_is_refused(till, shop, jam):
    cart_with(till, shop, (jam, 3))
    before = pos_state(shop.account)

    response = post(till, "sell_complete")

    refused(response, 422, "€9.99 is still to pay. Take a payment or put the rest on account.", shop.account,
            before)


def test_on_account_from_the_screen(till, shop, jam):
    buyer = CustomerFactory(account=shop.account, first_name="Camille", last_name="Martin")
    cart_with(till, shop, (jam, 3))
    before = pos_state(shop.account)

    refused(post(till, "sell_complete", {"on_account": "1"}), 422,
            "Add a customer to the sale to put it on account.", shop.account, before)

    post(till, "sell_set_customer", {"customer": buyer.pk})
    post(till, "sell_pay", {"payment_type": shop.cash.pk, "amount": "3.00"})
    done = post(till, "sell_complete", {"on_account": "1"})

    assert done.status_code == 200
    assert "€6.99 left on the customer’s account." in page_text(done)
    buyer.refresh_from_db()
    assert buyer.balance == 699


# ---- parking -------------------------------------------------------------------------------------------------

def test_park_resume_and_discard(till, shop, jam, mug):
    sale = cart_with(till, shop, (jam, 2))

    parked = post(till, "sell_park", {"note": "Revient à midi"})

    assert parked.status_code == 200 and "Sale parked." in page_text(parked)
    sale.refresh_from_db()
    assert (sale.status, sale.note) == (Sale.Status.PARKED, "Revient à midi")
    listing = till.get(reverse("retail:sell_parked"))
    assert list(listing.context["sales"]) == [sale] and "Revient à midi" in page_text(listing)

    resumed = till.post(reverse("retail:sell_resume", args=[sale.pk]))

    assert resumed.status_code == 302 and resumed.url == reverse("retail:sell")
    assert current_sale(shop) == sale

    post(till, "sell_add", {"product": mug.pk})
    discarded = post(till, "sell_discard")

    assert discarded.status_code == 200 and is_cart_partial(discarded)
    assert "The cart is empty." in page_text(discarded)
    assert not Sale.objects.filter(account=shop.account).exists()


def test_resuming_over_a_cart_in_progress_is_refused(till, shop, jam):
    parked = rf.park(shop, [(jam, 1)])
    cart_with(till, shop, (jam, 2))
    before = pos_state(shop.account)

    response = till.post(reverse("retail:sell_resume", args=[parked.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("retail:sell_parked")
    assert "Finish or park the sale in progress first." in page_text(response)
    assert pos_state(shop.account) == before


def test_parking_an_empty_cart_or_discarding_with_payments_is_refused(till, shop, jam):
    post(till, "sell_add", {"product": jam.pk})
    post(till, "sell_line_remove", {}, current_sale(shop).lines.get().pk)
    before = pos_state(shop.account)
    refused(post(till, "sell_park"), 422, "There is nothing to park.", shop.account, before)

    post(till, "sell_add", {"product": jam.pk})
    post(till, "sell_pay", {"payment_type": shop.cash.pk, "amount": "1.00"})
    before = pos_state(shop.account)
    refused(post(till, "sell_discard"), 422, "Payments were taken: remove them before discarding the sale.",
            shop.account, before)


# ---- who may use what -------------------------------------------------------------------------------------------

def test_another_accounts_cashier_gets_404_on_this_accounts_ids(client, shop, session, jam, other_account):
    sale = sale_services.sale_start(actor=shop.actor, account=shop.account, register_id=shop.register.pk)
    rf.leave_in_progress(shop, [(jam, 1)], cash_taken=100)
    line = SaleLine.objects.get(sale=sale)
    payment = sale.payments.get()
    theirs = rf.make_shop(other_account)
    rf.open_register(theirs)
    client.force_login(member(other_account, perms.CASHIER, language="en"))
    choose_register(client, theirs.register)
    before = pos_state(shop.account)

    assert post(client, "sell_line", {"quantity": "5"}, line.pk).status_code == 404
    assert post(client, "sell_line_remove", {}, line.pk).status_code == 404
    assert post(client, "sell_payment_remove", {}, payment.pk).status_code == 404
    assert post(client, "sell_add", {"product": jam.pk}).status_code == 404
    assert client.post(reverse("retail:sell_resume", args=[sale.pk])).status_code == 404
    assert pos_state(shop.account) == before


def test_a_user_without_the_sell_permission_gets_403(client, account, shop, session, jam):
    client.force_login(staff_with(account, "view_reports", "manage_customers"))
    client.cookies.update(_register_cookie_of(shop, account))
    before = pos_state(account)

    assert client.get(reverse("retail:sell")).status_code == 403
    assert client.get(reverse("retail:sell_search"), {"q": "conf"}).status_code == 403
    assert client.post(reverse("retail:sell_choose_register"), {"register": shop.register.pk}).status_code == 403
    assert post(client, "sell_add", {"product": jam.pk}).status_code == 403
    assert post(client, "sell_pay", {"payment_type": shop.cash.pk, "amount": "1"}).status_code == 403
    assert post(client, "sell_complete").status_code == 403
    assert client.get(reverse("retail:sell_close")).status_code == 403
    assert pos_state(account) == before


def _register_cookie_of(shop, account):
    """The signed register cookie a cashier's browser would carry (to prove the permission, not the cookie,
    refuses)."""
    from django.http import HttpResponse

    response = HttpResponse()
    response.set_signed_cookie(REGISTER_COOKIE, str(shop.register.pk), salt=f"register-{account.pk}")
    return response.cookies
