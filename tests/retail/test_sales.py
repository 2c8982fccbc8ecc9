"""The life of a sale through retail/services/sales.py: the cart and its amounts (per-line tax rounded
half up, prices including or excluding tax, discounts), payments (change, split, over-payment), completion
(receipt numbers, stock, on account), parking, discarding, voiding, returns and later payments. Every
refused action leaves the sale, its payments, the stock, the balances and the audit trail as they were."""

import threading

import pytest
from django.db import connection
from django.utils import translation

from accounts.models import AuditEvent
from posbackoffice.errors import DomainError
from retail.models import PaymentType, Product, Sale, SalePayment, SaleReturn, StockLevel, StockMove
from retail.services import sale_reversals
from retail.services import sales as services
from retail.services.shop import payment_type_create, payment_type_set_active, shop_settings_update
from tests.factories import RegisterFactory
from tests.retail import report_factories as rf
from tests.retail.builders import another_till, paris, pos_state, stock_at, tracked_product, travel
from tests.retail.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    """Services build their messages in the active language, and a request in an earlier test of this process
    may have left French active: the assertions below read the English source strings."""
    with translation.override("en"):
        yield


# ---- helpers ----------------------------------------------------------------------------------------------

@pytest.fixture
def shop(account):
    shop = rf.make_shop(account)
    shop.session = rf.open_register(shop, opening_float=5000)
    return shop


@pytest.fixture
def jam(shop):
    """3,33 € at 5,5 % VAT, not an inventory item."""
    return rf.product(shop, sku="CONF-1", name="Confiture", price=333, rate_bp=550)


@pytest.fixture
def mug(shop):
    """12,50 € at 20 %, inventory-tracked, 10 in stock."""
    return tracked_product(shop, sku="MUG-1", name="Mug", price=1250, rate_bp=2000, stock=10)


@pytest.fixture
def buyer(shop):
    return rf.customer(shop, first_name="Camille", last_name="Martin")


def exclude_tax(shop):
    shop_settings_update(actor=shop.actor, account=shop.account, prices_include_tax=False, receipt_footer="")


def cart(shop, items, buyer=None) -> Sale:
    sale = rf.leave_in_progress(shop, items)
    if buyer is not None:
        services.sale_set_customer(actor=shop.actor, account=shop.account, sale_id=sale.pk, customer_id=buyer.pk)
    sale.refresh_from_db()
    return sale


def pay(shop, sale, payment_type, amount) -> SalePayment:
    return services.sale_add_payment(actor=shop.actor, account=shop.account, sale_id=sale.pk,
                                     payment_type_id=payment_type.pk, amount=amount)


def complete(shop, sale, **kwargs) -> Sale:
    return services.sale_complete(actor=shop.actor, account=shop.account, sale_id=sale.pk, **kwargs)


def fresh(sale) -> Sale:
    return Sale.objects.get(pk=sale.pk)


def refused(account, message: str, action) -> None:
    """`action` raises DomainError(message) and changes nothing at all."""
    before = pos_state(account)
    with pytest.raises(DomainError) as caught:
        action()
    assert str(caught.value.message) == message
    assert pos_state(account) == before


def audits(account, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(account=account, action=action).order_by("id"))


def the_line(sale):
    return sale.lines.get()


# ---- amounts ----------------------------------------------------------------------------------------------

def test_three_at_3_33_with_5_5_percent_included_in_the_price(shop, jam):
    sale = cart(shop, [(jam, 3)])

    line = the_line(sale)
    # 9,99 € includes 999 × 5,5 / 105,5 = 52,08 cents of tax → 52.
    assert (line.quantity, line.unit_price, line.tax_amount, line.line_total) == (3, 333, 52, 999)
    assert (sale.subtotal, sale.discount_total, sale.tax_total, sale.total) == (999, 0, 52, 999)
    assert sale.balance_due == 999


def test_three_at_3_33_with_5_5_percent_added_to_the_price(shop, jam):
    exclude_tax(shop)

    sale = cart(shop, [(jam, 3)])

    line = the_line(sale)
    # 999 × 5,5 % = 54,945 cents → 55 (half up); the customer pays 10,54 €.
    assert (line.tax_amount, line.line_total) == (55, 1054)
    assert (sale.subtotal, sale.tax_total, sale.total) == (999, 55, 1054)
    assert sale.prices_include_tax is False


@pytest.mark.parametrize("include_tax,price,rate_bp,tax,total", [
    (True, 1083, 2000, 181, 1083),  # 1083 / 6 = 180,5 → 181 (half up, not to even)
    (False, 300, 550, 17, 317),  # 300 × 5,5 % = 16,5 → 17
    (True, 15, 2000, 3, 15),  # 15 / 6 = 2,5 → 3
])
def test_a_half_cent_of_tax_rounds_up(shop, include_tax, price, rate_bp, tax, total):
    if not include_tax:
        exclude_tax(shop)
    item = rf.product(shop, sku="X", name="Article", price=price, rate_bp=rate_bp)

    sale = cart(shop, [(item, 1)])

    assert (sale.tax_total, sale.total) == (tax, total)


def test_tax_is_rounded_per_line_then_summed(shop):
    exclude_tax(shop)
    a = rf.product(shop, sku="A", name="Bonbon A", price=10, rate_bp=550)
    b = rf.product(shop, sku="B", name="Bonbon B", price=10, rate_bp=550)

    sale = cart(shop, [(a, 1), (b, 1)])

    # Each line: 10 × 5,5 % = 0,55 → 1 cent; the sale's tax is 2 cents (not 20 × 5,5 % = 1,1 → 1).
    assert [line.tax_amount for line in sale.lines.all()] == [1, 1]
    assert (sale.tax_total, sale.total) == (2, 22)


def test_mixed_rates_in_one_sale(shop, jam, mug):
    sale = cart(shop, [(jam, 3), (mug, 2)])

    # Mug: 2500 / 6 = 416,67 → 417.
    assert [(line.name, line.tax_amount, line.line_total) for line in sale.lines.all()] == [
        ("Confiture", 52, 999), ("Mug", 417, 2500)]
    assert (sale.tax_total, sale.total) == (469, 3499)


def test_adding_the_same_product_again_adds_to_its_line(shop, jam):
    sale = cart(shop, [(jam, 1)])

    services.sale_add_product(actor=shop.actor, account=shop.account, sale_id=sale.pk, product_id=jam.pk,
                              quantity=2)

    sale = fresh(sale)
    assert the_line(sale).quantity == 3
    assert sale.total == 999
    event = audits(shop.account, "sale.line_added")[-1]
    assert (event.actor, event.object_id, event.after) == (shop.actor, str(sale.pk),
                                                          {"product": jam.pk, "quantity": 3})


def test_a_discount_on_a_line_with_tax_included(shop, jam):
    sale = cart(shop, [(jam, 3)])
    line = the_line(sale)

    services.sale_update_line(actor=shop.actor, account=shop.account, sale_id=sale.pk, line_id=line.pk,
                              quantity=3, discount=100)

    sale, line = fresh(sale), the_line(sale)
    # 8,99 € left: 899 × 5,5 / 105,5 = 46,87 → 47.
    assert (line.discount, line.tax_amount, line.line_total) == (100, 47, 899)
    assert (sale.discount_total, sale.tax_total, sale.total, sale.subtotal) == (100, 47, 899, 899)
    event = audits(shop.account, "sale.line_changed")[-1]
    assert event.actor == shop.actor
    assert event.before == {"quantity": 3, "discount": 0}
    assert event.after == {"line": line.pk, "quantity": 3, "discount": 100}


def test_a_discount_on_a_line_with_tax_added(shop, jam):
    exclude_tax(shop)
    sale = cart(shop, [(jam, 3)])

    services.sale_update_line(actor=shop.actor, account=shop.account, sale_id=sale.pk, line_id=the_line(sale).pk,
                              quantity=3, discount=100)

    sale = fresh(sale)
    # Tax on the discounted 8,99 €: 49,445 → 49.
    assert (sale.subtotal, sale.discount_total, sale.tax_total, sale.total) == (899, 100, 49, 948)


def test_changing_the_quantity_recomputes_the_line(shop, jam):
    sale = cart(shop, [(jam, 3)])

    services.sale_update_line(actor=shop.actor, account=shop.account, sale_id=sale.pk, line_id=the_line(sale).pk,
                              quantity=1, discount=0)

    sale = fresh(sale)
    # 333 × 5,5 / 105,5 = 17,36 → 17.
    assert (the_line(sale).quantity, sale.tax_total, sale.total) == (1, 17, 333)


@pytest.mark.parametrize("quantity,discount,message", [
    (0, 0, "The quantity must be at least 1."),
    (10_000, 0, "The quantity cannot be above 9999."),
    (3, -1, "A discount cannot be negative."),
    (3, 1000, "The discount cannot be more than the line’s amount."),
])
def test_refused_line_changes_change_nothing(shop, jam, quantity, discount, message):
    sale = cart(shop, [(jam, 3)])
    line = the_line(sale)

    refused(shop.account, message, lambda: services.sale_update_line(
        actor=shop.actor, account=shop.account, sale_id=sale.pk, line_id=line.pk, quantity=quantity,
        discount=discount))


def test_the_cart_is_frozen_once_a_payment_is_taken(shop, jam, mug):
    sale = cart(shop, [(jam, 3)])
    pay(shop, sale, shop.cash, 500)
    line = the_line(sale)
    message = "Payments were taken: remove them before changing the cart."

    refused(shop.account, message, lambda: services.sale_update_line(
        actor=shop.actor, account=shop.account, sale_id=sale.pk, line_id=line.pk, quantity=1, discount=0))
    refused(shop.account, message, lambda: services.sale_remove_line(
        actor=shop.actor, account=shop.account, sale_id=sale.pk, line_id=line.pk))
    refused(shop.account, message, lambda: services.sale_add_product(
        actor=shop.actor, account=shop.account, sale_id=sale.pk, product_id=mug.pk))


def test_removing_a_line(shop, jam, mug):
    sale = cart(shop, [(jam, 3), (mug, 1)])
    mug_line = sale.lines.get(product=mug)

    services.sale_remove_line(actor=shop.actor, account=shop.account, sale_id=sale.pk, line_id=mug_line.pk)

    sale = fresh(sale)
    assert [line.name for line in sale.lines.all()] == ["Confiture"]
    assert (sale.tax_total, sale.total) == (52, 999)
    event = audits(shop.account, "sale.line_removed")[-1]
    assert (event.actor, event.before) == (shop.actor, {"product": mug.pk, "quantity": 1})


def test_refused_products(shop, jam, other_account):
    sale = cart(shop, [(jam, 1)])
    retired = rf.product(shop, sku="OLD", name="Ancien", price=100, rate_bp=2000)
    Product.objects.filter(pk=retired.pk).update(is_active=False)
    foreign = ProductFactory(account=other_account)
    gone = "This product does not exist or is no longer sold."

    for product_id in (retired.pk, foreign.pk):
        refused(shop.account, gone, lambda product_id=product_id: services.sale_add_product(
            actor=shop.actor, account=shop.account, sale_id=sale.pk, product_id=product_id))
    refused(shop.account, "The quantity must be at least 1.", lambda: services.sale_add_product(
        actor=shop.actor, account=shop.account, sale_id=sale.pk, product_id=jam.pk, quantity=0))
    refused(shop.account, "The quantity cannot be above 9999.", lambda: services.sale_add_product(
        actor=shop.actor, account=shop.account, sale_id=sale.pk, product_id=jam.pk, quantity=9999))


def test_a_completed_sale_is_no_longer_a_cart(shop, jam):
    sale = rf.sell(shop, [(jam, 1)])

    refused(shop.account, "This sale is completed; it cannot be changed this way.",
            lambda: services.sale_add_product(actor=shop.actor, account=shop.account, sale_id=sale.pk,
                                              product_id=jam.pk))


def test_another_accounts_sale_does_not_exist(shop, jam, other_account):
    sale = cart(shop, [(jam, 1)])

    refused(shop.account, "This sale does not exist.", lambda: services.sale_add_product(
        actor=shop.actor, account=other_account, sale_id=sale.pk, product_id=jam.pk))


def test_selling_needs_an_open_register(account, jam):
    closed = rf.make_shop(account)

    before = pos_state(account)
    with pytest.raises(DomainError, match="Open the register before selling."):
        services.sale_start(actor=closed.actor, account=account, register_id=closed.register.pk)
    assert pos_state(account) == before


def test_setting_and_removing_the_customer_is_audited(shop, jam, buyer):
    sale = cart(shop, [(jam, 1)], buyer=buyer)
    assert sale.customer == buyer

    services.sale_set_customer(actor=shop.actor, account=shop.account, sale_id=sale.pk, customer_id=None)

    assert fresh(sale).customer is None
    first, second = audits(shop.account, "sale.customer_set")
    assert (first.before, first.after) == ({"customer": None}, {"customer": buyer.pk})
    assert (second.before, second.after, second.actor) == ({"customer": buyer.pk}, {"customer": None}, shop.actor)


# ---- payments ---------------------------------------------------------------------------------------------

def test_cash_beyond_the_total_is_change(shop, jam):
    sale = cart(shop, [(jam, 3)])

    payment = pay(shop, sale, shop.cash, 2000)

    assert (payment.amount, payment.tendered, payment.change_given) == (999, 2000, 1001)
    assert payment.session == shop.session
    sale = fresh(sale)
    assert (sale.paid_total, sale.balance_due) == (999, 0)
    event = audits(shop.account, "sale.payment_added")[-1]
    assert event.actor == shop.actor
    assert event.after == {"payment_type": shop.cash.pk, "amount": 999, "tendered": 2000, "processor_payment": None}


def test_split_payment_across_cash_and_a_custom_type(shop, jam, mug):
    sale = cart(shop, [(jam, 3), (mug, 1)])  # 9,99 + 12,50 = 22,49 €

    pay(shop, sale, shop.cash, 1000)
    pay(shop, sale, shop.cheque, 1249)
    done = complete(shop, sale)

    assert done.status == Sale.Status.COMPLETED
    assert [(p.payment_type.name, p.amount, p.tendered) for p in done.payments.all()] == [
        ("Espèces", 1000, None), ("Chèque", 1249, None)]
    assert (done.paid_total, done.balance_due) == (2249, 0)


def test_a_custom_type_cannot_take_more_than_is_due(shop, jam):
    sale = cart(shop, [(jam, 3)])

    refused(shop.account, "The amount is more than what is left to pay (€9.99).", lambda: pay(
        shop, sale, shop.cheque, 1000))


def test_refused_payments_change_nothing(shop, jam):
    on_account = PaymentType.objects.get(account=shop.account, kind=PaymentType.Kind.ON_ACCOUNT)
    card = PaymentType.objects.get(account=shop.account, kind=PaymentType.Kind.CARD)
    voucher = payment_type_create(actor=shop.actor, account=shop.account, name="Bon d'achat")
    payment_type_set_active(actor=shop.actor, account=shop.account, payment_type_id=voucher.pk, active=False)
    sale = cart(shop, [])
    refused(shop.account, "Add products before taking payment.", lambda: pay(shop, sale, shop.cash, 100))

    services.sale_add_product(actor=shop.actor, account=shop.account, sale_id=sale.pk, product_id=jam.pk,
                              quantity=3)

    refused(shop.account, "The amount must be more than zero.", lambda: pay(shop, sale, shop.cash, 0))
    refused(shop.account, "The amount must be more than zero.", lambda: pay(shop, sale, shop.cash, -5))
    refused(shop.account, "Use “On account” to leave the rest owed by the customer.",
            lambda: pay(shop, sale, on_account, 100))
    refused(shop.account, "Card payments go through the card processor.", lambda: pay(shop, sale, card, 100))
    refused(shop.account, "Choose a payment type.", lambda: pay(shop, sale, voucher, 100))
    pay(shop, sale, shop.cash, 999)
    refused(shop.account, "Nothing is left to pay.", lambda: pay(shop, sale, shop.cash, 100))


def test_removing_a_payment(shop, jam):
    sale = cart(shop, [(jam, 3)])
    payment = pay(shop, sale, shop.cheque, 500)

    services.sale_remove_payment(actor=shop.actor, account=shop.account, sale_id=sale.pk, payment_id=payment.pk)

    sale = fresh(sale)
    assert (sale.paid_total, sale.balance_due, sale.payments.count()) == (0, 999, 0)
    event = audits(shop.account, "sale.payment_removed")[-1]
    assert (event.actor, event.before) == (shop.actor, {"payment_type": shop.cheque.pk, "amount": 500})


# ---- completing -------------------------------------------------------------------------------------------

def test_completing_numbers_the_receipt_and_is_audited(shop, jam):
    sale = cart(shop, [(jam, 3)])
    pay(shop, sale, shop.cash, 999)

    with travel(paris(2026, 3, 10, 10)):
        done = complete(shop, sale)

    assert (done.status, done.receipt_number, done.completed_at) == (Sale.Status.COMPLETED, 1,
                                                                     paris(2026, 3, 10, 10))
    event = audits(shop.account, "sale.completed")[-1]
    assert (event.actor, event.object_id) == (shop.actor, str(sale.pk))
    assert event.after == {"status": "completed", "receipt": 1, "total": 999, "paid": 999, "returned": 0,
                           "customer": None}


def test_receipt_numbers_follow_each_other_per_outlet(shop, jam):
    elsewhere = rf.make_shop(shop.account)
    rf.open_register(elsewhere)

    numbers = [rf.sell(shop, [(jam, 1)]).receipt_number, rf.sell(shop, [(jam, 1)]).receipt_number,
               rf.sell(elsewhere, [(jam, 1)]).receipt_number, rf.sell(shop, [(jam, 1)]).receipt_number]

    assert numbers == [1, 2, 1, 3]


def test_completing_with_money_still_due_is_refused(shop, jam):
    sale = cart(shop, [(jam, 3)])
    pay(shop, sale, shop.cash, 500)

    refused(shop.account, "€4.99 is still to pay. Take a payment or put the rest on account.",
            lambda: complete(shop, sale))
    assert fresh(sale).status == Sale.Status.OPEN


def test_completing_an_empty_sale_or_with_a_bad_email_is_refused(shop, jam):
    empty = cart(shop, [])
    refused(shop.account, "The sale is empty.", lambda: complete(shop, empty))

    services.sale_add_product(actor=shop.actor, account=shop.account, sale_id=empty.pk, product_id=jam.pk)
    pay(shop, empty, shop.cash, 333)
    refused(shop.account, "Enter exactly one e-mail address.",
            lambda: complete(shop, empty, receipt_email="a@x.fr, b@y.fr"))


def test_on_account_leaves_the_rest_on_the_customers_balance(shop, jam, buyer):
    sale = cart(shop, [(jam, 3)], buyer=buyer)
    pay(shop, sale, shop.cash, 300)

    done = complete(shop, sale, on_account=True)

    buyer.refresh_from_db()
    assert (done.status, done.receipt_number, done.paid_total, done.balance_due) == (
        Sale.Status.ON_ACCOUNT, 1, 300, 699)
    assert buyer.balance == 699
    assert audits(shop.account, "sale.completed")[-1].after["status"] == "on_account"


def test_on_account_adds_to_what_the_customer_already_owes(shop, jam, buyer):
    rf.sell(shop, [(jam, 1)], payments=[], buyer=buyer, on_account=True)
    rf.sell(shop, [(jam, 3)], payments=[(shop.cheque, 99)], buyer=buyer, on_account=True)

    buyer.refresh_from_db()
    assert buyer.balance == 333 + 900


def test_on_account_needs_a_customer_and_something_left_to_pay(shop, jam, buyer):
    anonymous = cart(shop, [(jam, 3)])
    refused(shop.account, "Add a customer to the sale to put it on account.",
            lambda: complete(shop, anonymous, on_account=True))

    services.sale_set_customer(actor=shop.actor, account=shop.account, sale_id=anonymous.pk, customer_id=buyer.pk)
    pay(shop, anonymous, shop.cash, 999)
    refused(shop.account, "Nothing is left to pay; complete the sale normally.",
            lambda: complete(shop, anonymous, on_account=True))
    buyer.refresh_from_db()
    assert buyer.balance == 0


def test_completing_takes_tracked_products_out_of_stock_only(shop, jam, mug):
    sale = rf.sell(shop, [(mug, 3), (jam, 2)])

    assert stock_at(mug, shop.outlet) == 7
    assert not StockLevel.objects.filter(product=jam).exists()
    moves = list(StockMove.objects.filter(sale=sale))
    assert [(m.product, m.outlet, m.delta, m.reason, m.actor) for m in moves] == [
        (mug, shop.outlet, -3, StockMove.Reason.SALE, shop.actor)]


# ---- concurrency ------------------------------------------------------------------------------------------

def _complete_in_thread(start: threading.Barrier, actor, account, sale_id: int, results: dict, errors: list):
    try:
        start.wait(timeout=10)
        results[sale_id] = services.sale_complete(actor=actor, account=account, sale_id=sale_id).receipt_number
    except Exception as error:  # reported by the test: an exception in a thread would be lost
        errors.append(error)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_sales_completed_at_once_never_share_a_receipt_number(account):
    shop = rf.make_shop(account)
    tills = [shop, another_till(shop)]
    jam = rf.product(shop, sku="CONF-1", name="Confiture", price=333, rate_bp=550)
    for till in tills:
        rf.open_register(till)
    numbers = []
    for _round in range(3):
        sales = [rf.leave_in_progress(till, [(jam, 1)], cash_taken=333) for till in tills]
        start, results, errors = threading.Barrier(2), {}, []
        threads = [threading.Thread(target=_complete_in_thread, args=(start, shop.actor, account, sale.pk, results,
                                                                      errors)) for sale in sales]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert errors == []
        pair = sorted(results.values())
        assert len(pair) == 2 and pair[1] == pair[0] + 1
        numbers.extend(pair)

    assert numbers == [1, 2, 3, 4, 5, 6]
    assert sorted(Sale.objects.filter(account=account).exclude(receipt_number=None)
                  .values_list("receipt_number", flat=True)) == numbers


# ---- parking ----------------------------------------------------------------------------------------------

def test_parking_frees_the_register_and_resuming_brings_the_sale_back(shop, jam):
    sale = cart(shop, [(jam, 2)])

    parked = services.sale_park(actor=shop.actor, account=shop.account, sale_id=sale.pk, note="  revient  ")

    assert (parked.status, parked.note) == (Sale.Status.PARKED, "revient")
    assert parked.parked_at is not None
    assert audits(shop.account, "sale.parked")[-1].actor == shop.actor
    placeholder = services.sale_start(actor=shop.actor, account=shop.account, register_id=shop.register.pk)
    assert placeholder.pk != sale.pk and placeholder.status == Sale.Status.OPEN

    resumed = services.sale_resume(actor=shop.actor, account=shop.account, sale_id=sale.pk,
                                   register_id=shop.register.pk)

    assert (resumed.status, resumed.parked_at, resumed.session) == (Sale.Status.OPEN, None, shop.session)
    assert not Sale.objects.filter(pk=placeholder.pk).exists()  # the empty cart made way
    assert services.sale_start(actor=shop.actor, account=shop.account, register_id=shop.register.pk) == resumed
    assert the_line(resumed).quantity == 2
    assert audits(shop.account, "sale.resumed")[-1].actor == shop.actor


def test_refused_parking(shop, jam):
    empty = cart(shop, [])
    refused(shop.account, "There is nothing to park.", lambda: services.sale_park(
        actor=shop.actor, account=shop.account, sale_id=empty.pk))

    services.sale_add_product(actor=shop.actor, account=shop.account, sale_id=empty.pk, product_id=jam.pk)
    pay(shop, empty, shop.cash, 100)
    refused(shop.account, "Payments were taken: complete the sale or remove them before parking.",
            lambda: services.sale_park(actor=shop.actor, account=shop.account, sale_id=empty.pk))


def test_refused_resuming(shop, jam):
    parked = rf.park(shop, [(jam, 1)])
    rf.leave_in_progress(shop, [(jam, 2)])
    refused(shop.account, "Finish or park the sale in progress first.", lambda: services.sale_resume(
        actor=shop.actor, account=shop.account, sale_id=parked.pk, register_id=shop.register.pk))

    elsewhere = rf.make_shop(shop.account)
    rf.open_register(elsewhere)
    refused(shop.account, "This sale was parked at another outlet.", lambda: services.sale_resume(
        actor=shop.actor, account=shop.account, sale_id=parked.pk, register_id=elsewhere.register.pk))

    closed_till = RegisterFactory(outlet=shop.outlet, account=shop.account)
    refused(shop.account, "Open the register before selling.", lambda: services.sale_resume(
        actor=shop.actor, account=shop.account, sale_id=parked.pk, register_id=closed_till.pk))


def test_discarding_a_sale_removes_it_and_keeps_an_audit_row(shop, jam, mug):
    sale = cart(shop, [(jam, 2), (mug, 1)])

    services.sale_discard(actor=shop.actor, account=shop.account, sale_id=sale.pk)

    assert not Sale.objects.filter(pk=sale.pk).exists()
    event = audits(shop.account, "sale.discarded")[-1]
    assert (event.actor, event.object_id) == (shop.actor, str(sale.pk))
    assert event.before["lines"] == [[jam.pk, 2], [mug.pk, 1]]
    assert event.before["total"] == 666 + 1250
    assert stock_at(mug, shop.outlet) == 10


def test_discarding_is_refused_once_money_was_taken(shop, jam):
    sale = cart(shop, [(jam, 2)])
    pay(shop, sale, shop.cash, 100)

    refused(shop.account, "Payments were taken: remove them before discarding the sale.",
            lambda: services.sale_discard(actor=shop.actor, account=shop.account, sale_id=sale.pk))


# ---- voiding ----------------------------------------------------------------------------------------------

def void(shop, sale, reason="erreur de caisse"):
    return sale_reversals.sale_void(actor=shop.actor, account=shop.account, sale_id=sale.pk, reason=reason)


def test_voiding_gives_everything_back(shop, jam, mug):
    with travel(paris(2026, 3, 10, 10)):
        sale = rf.sell(shop, [(mug, 3), (jam, 1)], payments=[(shop.cash, 2000), (shop.cheque, 2083)])
    assert stock_at(mug, shop.outlet) == 7

    with travel(paris(2026, 3, 10, 18)):
        voided = void(shop, sale)

    assert (voided.status, voided.voided_at, voided.paid_total) == (Sale.Status.VOIDED, paris(2026, 3, 10, 18), 0)
    assert voided.note == "erreur de caisse"
    assert stock_at(mug, shop.outlet) == 10
    assert list(StockMove.objects.filter(sale=sale, reason=StockMove.Reason.VOID).values_list("product", "delta")) \
        == [(mug.pk, 3)]
    refunds = voided.payments.filter(amount__lt=0).order_by("payment_type_id")
    assert sorted((p.payment_type_id, p.amount, p.session_id) for p in refunds) == sorted(
        [(shop.cash.pk, -2000, shop.session.pk), (shop.cheque.pk, -2083, shop.session.pk)])
    event = audits(shop.account, "sale.voided")[-1]
    assert event.actor == shop.actor
    assert event.before == {"status": "completed", "receipt": 1, "total": 4083, "paid": 4083, "returned": 0,
                            "customer": None}
    assert event.after == {"status": "voided", "receipt": 1, "total": 4083, "paid": 0, "returned": 0,
                           "customer": None, "reason": "erreur de caisse"}


def test_voiding_an_on_account_sale_takes_the_debt_off_the_balance(shop, jam, buyer):
    with travel(paris(2026, 3, 10, 10)):
        sale = rf.sell(shop, [(jam, 3)], payments=[(shop.cash, 300)], buyer=buyer, on_account=True)
        rf.sell(shop, [(jam, 1)], payments=[], buyer=buyer, on_account=True)
    buyer.refresh_from_db()
    assert buyer.balance == 699 + 333

    with travel(paris(2026, 3, 10, 11)):
        void(shop, sale)

    buyer.refresh_from_db()
    assert buyer.balance == 333
    assert list(fresh(sale).payments.values_list("amount", flat=True)) == [300, -300]


def test_a_sale_of_the_previous_local_day_cannot_be_voided(shop, jam, mug):
    # 23:30 in Paris on the 10th and 00:30 on the 11th are both the 10th in UTC.
    with travel(paris(2026, 3, 10, 23, 30)):
        sale = rf.sell(shop, [(mug, 1)])

    with travel(paris(2026, 3, 11, 0, 30)):
        refused(shop.account, "Only sales of today can be voided; use a return instead.", lambda: void(shop, sale))
    assert stock_at(mug, shop.outlet) == 9


def test_a_sale_just_after_local_midnight_can_be_voided_that_day(shop, jam):
    with travel(paris(2026, 3, 11, 0, 30)):  # 23:30 UTC on the 10th
        sale = rf.sell(shop, [(jam, 1)])

    with travel(paris(2026, 3, 11, 9)):
        assert void(shop, sale).status == Sale.Status.VOIDED


def test_refused_voids_change_nothing(shop, jam, mug):
    with travel(paris(2026, 3, 10, 10)):
        returned = rf.sell(shop, [(mug, 2)])
        rf.give_back(shop, returned, {mug: 1}, shop.cash)
        refused(shop.account, "Part of this sale was returned; it can no longer be voided.",
                lambda: void(shop, returned))

        twice = rf.sell(shop, [(jam, 1)])
        void(shop, twice)
        refused(shop.account, "This sale is voided; it cannot be changed this way.", lambda: void(shop, twice))

        in_progress = cart(shop, [(jam, 1)])
        refused(shop.account, "This sale is in progress; it cannot be changed this way.",
                lambda: void(shop, in_progress))
        services.sale_discard(actor=shop.actor, account=shop.account, sale_id=in_progress.pk)

        cash_sale = rf.sell(shop, [(mug, 1)])
        rf.close_register(shop, shop.session, counted={})
        refused(shop.account, "Open the register to give the cash back.", lambda: void(shop, cash_sale))


def test_a_sale_paid_by_a_custom_type_can_be_voided_with_the_register_closed(shop, mug):
    with travel(paris(2026, 3, 10, 10)):
        sale = rf.sell(shop, [(mug, 1)], payments=[(shop.cheque, 1250)])
        rf.close_register(shop, shop.session, counted={})

        voided = void(shop, sale)

    assert voided.status == Sale.Status.VOIDED
    assert list(voided.payments.values_list("amount", "session")) == [(1250, shop.session.pk), (-1250, None)]
    assert stock_at(mug, shop.outlet) == 10


# ---- returns ----------------------------------------------------------------------------------------------

def give_back(shop, sale, quantities, refund_type=None, reason=""):
    return sale_reversals.sale_return(actor=shop.actor, account=shop.account, sale_id=sale.pk, quantities=quantities,
                                refund_payment_type_id=refund_type.pk if refund_type else None, reason=reason)


def test_returns_refund_item_by_item_and_the_last_takes_what_remains(shop, mug):
    sale = cart(shop, [(mug, 3)])
    line = the_line(sale)
    services.sale_update_line(actor=shop.actor, account=shop.account, sale_id=sale.pk, line_id=line.pk,
                              quantity=3, discount=1)  # 37,49 €: not a multiple of 3
    pay(shop, sale, shop.cash, 3749)
    sale = complete(shop, sale)

    first = give_back(shop, sale, {line.pk: 1}, shop.cash, reason="cassé")
    second = give_back(shop, sale, {line.pk: 1}, shop.cheque)
    third = give_back(shop, sale, {line.pk: 1}, shop.cash)

    # 3749 / 3 = 1249,67 → 1250; two thirds 2499,33 → 2499, so 1249; the last item 3749 − 2499 = 1250.
    assert [r.amount for r in (first, second, third)] == [1250, 1249, 1250]
    assert (first.reason, first.payment_type, first.created_by) == ("cassé", shop.cash, shop.actor)
    assert list(first.lines.values_list("sale_line", "quantity", "amount")) == [(line.pk, 1, 1250)]
    sale = fresh(sale)
    assert (sale.status, sale.returned_total, sale.paid_total, sale.balance_due) == (
        Sale.Status.RETURNED, 3749, 0, 0)
    assert list(sale.payments.filter(amount__lt=0).values_list("payment_type", "amount")) == [
        (shop.cash.pk, -1250), (shop.cheque.pk, -1249), (shop.cash.pk, -1250)]
    assert the_line(sale).returned_quantity == 3
    assert stock_at(mug, shop.outlet) == 10
    assert list(StockMove.objects.filter(sale=sale, reason=StockMove.Reason.RETURN).values_list("delta", flat=True)) \
        == [1, 1, 1]
    event = audits(shop.account, "sale.returned")[0]
    assert event.actor == shop.actor
    assert (event.before["status"], event.before["returned"]) == ("completed", 0)
    assert event.after["amount"] == 1250 and event.after["refund"] == 1250
    assert event.after["lines"] == {str(line.pk): 1}


def test_a_partial_return_keeps_the_sale_completed(shop, jam, mug):
    sale = rf.sell(shop, [(jam, 3), (mug, 2)])
    mug_line = sale.lines.get(product=mug)

    give_back(shop, sale, {mug_line.pk: 1}, shop.cash)

    sale = fresh(sale)
    assert (sale.status, sale.returned_total, sale.paid_total) == (Sale.Status.COMPLETED, 1250, 999 + 1250)
    assert stock_at(mug, shop.outlet) == 9


def test_a_return_on_an_on_account_sale_first_reduces_the_debt(shop, jam, buyer):
    sale = rf.sell(shop, [(jam, 3)], payments=[(shop.cash, 300)], buyer=buyer, on_account=True)
    line = the_line(sale)

    first = give_back(shop, sale, {line.pk: 1})  # no money back: 3,33 € off the 6,99 € owed

    buyer.refresh_from_db()
    sale = fresh(sale)
    assert (first.amount, first.payment_type) == (333, None)
    assert buyer.balance == 366
    assert (sale.status, sale.balance_due, sale.paid_total) == (Sale.Status.ON_ACCOUNT, 366, 300)
    assert not sale.payments.filter(amount__lt=0).exists()

    give_back(shop, sale, {line.pk: 2}, shop.cheque)  # 6,66 €: 3,66 € of debt, 3,00 € given back

    buyer.refresh_from_db()
    sale = fresh(sale)
    assert buyer.balance == 0
    assert (sale.status, sale.returned_total, sale.paid_total, sale.balance_due) == (Sale.Status.RETURNED, 999, 0, 0)
    assert list(sale.payments.filter(amount__lt=0).values_list("payment_type", "amount")) == [(shop.cheque.pk, -300)]


def test_a_return_that_settles_an_on_account_sale_completes_it(shop, jam, mug, buyer):
    sale = rf.sell(shop, [(jam, 1), (mug, 1)], payments=[(shop.cash, 333)], buyer=buyer, on_account=True)

    give_back(shop, sale, {sale.lines.get(product=mug).pk: 1})

    buyer.refresh_from_db()
    assert (fresh(sale).status, fresh(sale).balance_due, buyer.balance) == (Sale.Status.COMPLETED, 0, 0)


def test_refused_returns_change_nothing(shop, jam, mug):
    sale = rf.sell(shop, [(jam, 3), (mug, 1)])
    jam_line, mug_line = sale.lines.get(product=jam), sale.lines.get(product=mug)
    other_sale = rf.sell(shop, [(jam, 1)])
    card = PaymentType.objects.get(account=shop.account, kind=PaymentType.Kind.CARD)

    refused(shop.account, "Choose what is being returned.", lambda: give_back(shop, sale, {jam_line.pk: 0}))
    refused(shop.account, "You can return at most 3 of “Confiture”.",
            lambda: give_back(shop, sale, {jam_line.pk: 4}, shop.cash))
    refused(shop.account, "You can return at most 3 of “Confiture”.",
            lambda: give_back(shop, sale, {jam_line.pk: -1}, shop.cash))
    refused(shop.account, "This line is not part of the sale.",
            lambda: give_back(shop, sale, {the_line(other_sale).pk: 1}, shop.cash))
    refused(shop.account, "Choose how the money is given back.", lambda: give_back(shop, sale, {mug_line.pk: 1}))
    refused(shop.account, "Refunds here are for cash and custom payment types; refund card payments from "
                          "Finance › Payments.", lambda: give_back(shop, sale, {mug_line.pk: 1}, card))
    give_back(shop, sale, {mug_line.pk: 1}, shop.cash)
    refused(shop.account, "You can return at most 0 of “Mug”.", lambda: give_back(shop, sale, {mug_line.pk: 1},
                                                                                 shop.cash))
    rf.close_register(shop, shop.session, counted={})
    refused(shop.account, "Open the register to give the cash back.",
            lambda: give_back(shop, sale, {jam_line.pk: 1}, shop.cash))


def test_a_sale_in_progress_cannot_be_returned(shop, jam):
    sale = cart(shop, [(jam, 1)])

    refused(shop.account, "This sale is in progress; it cannot be changed this way.",
            lambda: give_back(shop, sale, {the_line(sale).pk: 1}, shop.cash))
    assert not SaleReturn.objects.exists()


# ---- paying later -----------------------------------------------------------------------------------------

def take(shop, sale, payment_type, amount):
    return services.sale_take_payment(actor=shop.actor, account=shop.account, sale_id=sale.pk,
                                      payment_type_id=payment_type.pk, amount=amount)


def test_a_later_payment_reduces_the_customers_balance(shop, jam, buyer):
    sale = rf.sell(shop, [(jam, 3)], payments=[(shop.cash, 300)], buyer=buyer, on_account=True)

    payment = take(shop, sale, shop.cheque, 200)

    buyer.refresh_from_db()
    sale = fresh(sale)
    assert (payment.amount, payment.payment_type, payment.session) == (200, shop.cheque, shop.session)
    assert buyer.balance == 499
    assert (sale.status, sale.paid_total, sale.balance_due) == (Sale.Status.ON_ACCOUNT, 500, 499)
    event = audits(shop.account, "sale.payment_taken")[-1]
    assert event.actor == shop.actor
    assert event.before["paid"] == 300
    assert (event.after["paid"], event.after["amount"], event.after["payment_type"]) == (500, 200, shop.cheque.pk)

    take(shop, sale, shop.cash, 499)

    buyer.refresh_from_db()
    sale = fresh(sale)
    assert buyer.balance == 0
    assert (sale.status, sale.balance_due) == (Sale.Status.COMPLETED, 0)


def test_refused_later_payments_change_nothing(shop, jam, buyer):
    sale = rf.sell(shop, [(jam, 3)], payments=[(shop.cash, 300)], buyer=buyer, on_account=True)
    on_account = PaymentType.objects.get(account=shop.account, kind=PaymentType.Kind.ON_ACCOUNT)
    card = PaymentType.objects.get(account=shop.account, kind=PaymentType.Kind.CARD)
    paid = rf.sell(shop, [(jam, 1)])

    refused(shop.account, "The amount is more than what is left to pay (€6.99).",
            lambda: take(shop, sale, shop.cheque, 700))
    refused(shop.account, "The amount is more than what is left to pay (€6.99).",
            lambda: take(shop, sale, shop.cash, 700))
    refused(shop.account, "The amount must be more than zero.", lambda: take(shop, sale, shop.cash, 0))
    refused(shop.account, "Choose how the customer pays.", lambda: take(shop, sale, on_account, 100))
    refused(shop.account, "Card payments go through the card processor.", lambda: take(shop, sale, card, 100))
    refused(shop.account, "This sale is completed; it cannot be changed this way.",
            lambda: take(shop, paid, shop.cash, 100))
    rf.close_register(shop, shop.session, counted={})
    refused(shop.account, "Open the register to take cash.", lambda: take(shop, sale, shop.cash, 100))
    buyer.refresh_from_db()
    assert buyer.balance == 699


# ---- explicit moments -------------------------------------------------------------------------------------

def test_a_sale_made_at_a_given_moment_carries_it_everywhere(shop, mug, buyer):
    """demo_data writes past days by handing the services their moment (`now=`) instead of travelling."""
    morning, afternoon = paris(2026, 3, 10, 11), paris(2026, 3, 10, 15, 30)
    actor, account = shop.actor, shop.account
    sale = services.sale_start(actor=actor, account=account, register_id=shop.register.pk, now=morning)
    line = services.sale_add_product(actor=actor, account=account, sale_id=sale.pk, product_id=mug.pk, quantity=2,
                                     now=morning)
    services.sale_update_line(actor=actor, account=account, sale_id=sale.pk, line_id=line.pk, quantity=2,
                              discount=100, now=morning)
    services.sale_set_customer(actor=actor, account=account, sale_id=sale.pk, customer_id=buyer.pk, now=morning)
    services.sale_add_payment(actor=actor, account=account, sale_id=sale.pk, payment_type_id=shop.cash.pk,
                              amount=1000, now=morning)
    services.sale_complete(actor=actor, account=account, sale_id=sale.pk, on_account=True, now=morning)
    services.sale_take_payment(actor=actor, account=account, sale_id=sale.pk, payment_type_id=shop.cheque.pk,
                               amount=400, now=afternoon)
    sale_reversals.sale_return(actor=actor, account=account, sale_id=sale.pk, quantities={line.pk: 1},
                         refund_payment_type_id=shop.cash.pk, now=afternoon)

    sale = fresh(sale)
    assert (sale.created_at, sale.completed_at) == (morning, morning)
    assert list(sale.payments.values_list("amount", "created_at")) == [
        (1000, morning), (400, afternoon), (-200, afternoon)]
    assert list(StockMove.objects.filter(sale=sale).values_list("delta", "created_at").order_by("pk")) == [
        (-2, morning), (1, afternoon)]
    assert SaleReturn.objects.get(sale=sale).created_at == afternoon
    assert [event.created_at for event in AuditEvent.objects.filter(account=account, object_type="retail.sale",
                                                                    object_id=str(sale.pk)).order_by("pk")] \
        == [morning] * 6 + [afternoon] * 2
    assert stock_at(mug, shop.outlet) == 9


def test_a_void_at_a_given_moment_checks_that_moments_day(shop, mug):
    sale = services.sale_start(actor=shop.actor, account=shop.account, register_id=shop.register.pk,
                               now=paris(2026, 3, 10, 11))
    services.sale_add_product(actor=shop.actor, account=shop.account, sale_id=sale.pk, product_id=mug.pk)
    services.sale_add_payment(actor=shop.actor, account=shop.account, sale_id=sale.pk, payment_type_id=shop.cash.pk,
                              amount=1250)
    services.sale_complete(actor=shop.actor, account=shop.account, sale_id=sale.pk, now=paris(2026, 3, 10, 11))

    refused(shop.account, "Only sales of today can be voided; use a return instead.",
            lambda: sale_reversals.sale_void(actor=shop.actor, account=shop.account, sale_id=sale.pk,
                                             now=paris(2026, 3, 11, 10)))
    voided = sale_reversals.sale_void(actor=shop.actor, account=shop.account, sale_id=sale.pk,
                                      now=paris(2026, 3, 10, 18))

    assert voided.voided_at == paris(2026, 3, 10, 18)
    assert voided.payments.get(amount=-1250).created_at == paris(2026, 3, 10, 18)
    assert audits(shop.account, "sale.voided")[-1].created_at == paris(2026, 3, 10, 18)
