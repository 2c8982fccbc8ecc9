"""`manage.py demo_data`: the demo shop's catalogue, customers and weeks of sales, made through the
services; the same every time, loaded once however often the command runs, and kept apart from the
second account's own data."""

import datetime
import io
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

import retail.demo
from accounts.models import Account, AuditEvent, Outlet
from retail.demo.data import SUBSCRIPTION_FEE_SKU
from retail.models import (
    Customer,
    CustomerType,
    PaymentType,
    Product,
    RegisterClosureLine,
    RegisterSession,
    Sale,
    SaleLine,
    SalePayment,
    SaleReturn,
    StockLevel,
    StockMove,
)
from retail.services.customers import clean_single_email
from tests.factories import AccountFactory, RegisterFactory
from tests.retail.builders import PARIS, paris, travel

pytestmark = pytest.mark.django_db

COUNTED = (Product, StockLevel, StockMove, CustomerType, Customer, PaymentType, RegisterSession, RegisterClosureLine,
           Sale, SaleLine, SalePayment, SaleReturn, AuditEvent)


def counts(account) -> dict[str, int]:
    return {model.__name__: model.objects.filter(account=account).count() for model in COUNTED}


def is_ean13(code: str) -> bool:
    if len(code) != 13 or not code.isdigit():
        return False
    weighted = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(code[:12]))
    return (weighted + int(code[12])) % 10 == 0


def check_receipts_follow_each_other(account) -> None:
    """Per outlet, in the order sales were completed: 1, 2, 3… with no gap or repeat."""
    for outlet in Outlet.objects.filter(account=account):
        numbers = list(Sale.objects.filter(account=account, outlet=outlet, receipt_number__isnull=False)
                       .order_by("completed_at", "pk").values_list("receipt_number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1)), outlet.name


def check_stock_adds_up(account) -> None:
    """Every stock level is what was counted in, less what was sold, plus what came back (voids, returns),
    worked out from the sales themselves; and none is below zero."""
    counted_in = defaultdict(int)
    for move in StockMove.objects.filter(account=account, reason=StockMove.Reason.ADJUSTMENT):
        counted_in[move.product_id, move.outlet_id] += move.delta
    sold, back = defaultdict(int), defaultdict(int)
    for line in SaleLine.objects.filter(account=account, product__track_inventory=True).exclude(
            sale__status__in=[Sale.Status.OPEN, Sale.Status.PARKED]).select_related("sale"):
        key = line.product_id, line.sale.outlet_id
        sold[key] += line.quantity
        back[key] += line.quantity if line.sale.status == Sale.Status.VOIDED else line.returned_quantity
    levels = {(row.product_id, row.outlet_id): row.quantity for row in StockLevel.objects.filter(account=account)}
    assert levels == {key: counted_in[key] - sold[key] + back[key] for key in levels}
    assert min(levels.values()) >= 0
    assert set(sold) <= set(levels)


def check_balances_are_the_unpaid_sales(account) -> None:
    owed = defaultdict(int)
    for sale in Sale.objects.filter(account=account, status=Sale.Status.ON_ACCOUNT):
        owed[sale.customer_id] += sale.balance_due
    assert {c.pk: c.balance for c in Customer.objects.filter(account=account, balance__gt=0)} == dict(owed)


def check_registers_were_worked_in_opening_hours(account, today: datetime.date) -> None:
    sessions = list(RegisterSession.objects.filter(account=account))
    assert sessions and all(s.status == RegisterSession.Status.CLOSED for s in sessions)
    for session in sessions:
        if session.opened_by is None:  # opened by a pay link paid after hours (paylinks' demo), closed by staff
            continue
        opened, closed = session.opened_at.astimezone(PARIS), session.closed_at.astimezone(PARIS)
        assert opened.date() == closed.date() < today
        assert datetime.time(9, 30) <= opened.time() < datetime.time(10)
        assert datetime.time(19) < closed.time() < datetime.time(19, 30)
        assert session.closure_lines.exists()
    for sale in Sale.objects.filter(account=account).exclude(completed_at=None).select_related("session"):
        assert sale.session.opened_at < sale.created_at <= sale.completed_at < sale.session.closed_at


# Three weeks up to the 7th of April 2026: across the change to summer time on the 29th of March.
TODAY = paris(2026, 4, 8, 8)


@pytest.fixture
def loaded(monkeypatch):
    # The subscriptions' part of the demo has its own test (tests/subscriptions/test_demo.py).
    monkeypatch.setattr("subscriptions.demo.load", lambda account: None)
    with travel(TODAY):
        call_command("demo_data", stdout=io.StringIO())
    return Account.objects.get(name="Boutique Léa"), Account.objects.get(name="Autre Boutique")


def test_the_demo_shop(loaded):
    shop, other = loaded
    outlets = list(Outlet.objects.filter(account=shop))
    assert len(outlets) == 2

    # The catalogue: ~40 clothing and accessories at 20 % VAT with valid EAN-13s and stock at both
    # outlets, and the subscription fee, which is not an inventory item.
    products = list(Product.objects.filter(account=shop).select_related("tax_rate"))
    goods = [p for p in products if p.track_inventory]
    assert 38 <= len(goods) <= 45
    assert {p.tax_rate.rate_bp for p in products} == {2000}
    assert all(is_ean13(p.barcode) for p in goods)
    assert len({p.barcode for p in goods}) == len(goods)
    assert all(p.price > 0 for p in products)
    assert StockLevel.objects.filter(account=shop, product__in=goods).values("product").annotate(
        n=Count("outlet")).filter(n=2).count() == len(goods)
    fee = Product.objects.get(account=shop, sku=SUBSCRIPTION_FEE_SKU)
    assert (fee.name, fee.track_inventory, fee.barcode) == ("Frais d’abonnement", False, "")
    assert not StockLevel.objects.filter(product=fee).exists()
    assert not StockMove.objects.filter(product=fee).exists()
    assert SaleLine.objects.filter(product=fee).exists()

    # Customers: 60, each with a type, one valid e-mail address, a phone and an address.
    customers = list(Customer.objects.filter(account=shop).select_related("customer_type"))
    assert len(customers) == 60
    assert {c.customer_type.name for c in customers} == {"Particulier", "Professionnel", "VIP", "Abonné"}
    assert all(clean_single_email(c.email) == c.email for c in customers)
    assert len({c.email for c in customers}) == 60
    assert all(c.phone and c.address_line1 and c.postcode and c.city and c.country == "FR" for c in customers)
    assert all(c.company for c in customers if c.customer_type.name == "Professionnel")

    # Sales: three weeks before today at every register, with and without customers, paid in cash, by the
    # custom types, split, or left on account; a few voided or returned; one parked for the cashier.
    sales = Sale.objects.filter(account=shop)
    statuses = dict(sales.values_list("status").annotate(n=Count("pk")))
    assert statuses[Sale.Status.COMPLETED] > 200
    assert statuses[Sale.Status.ON_ACCOUNT] >= 5
    assert statuses[Sale.Status.VOIDED] >= 1
    assert statuses[Sale.Status.PARKED] == 1
    assert Sale.Status.OPEN not in statuses
    assert SaleReturn.objects.filter(account=shop).count() >= 5
    days = {s.completed_at.astimezone(PARIS).date() for s in sales.exclude(completed_at=None)}
    assert (min(days), max(days)) == (datetime.date(2026, 3, 18), datetime.date(2026, 4, 7))
    assert datetime.date(2026, 3, 29) not in days  # closed on Sundays
    assert set(sales.values_list("register__outlet", flat=True)) == {o.pk for o in outlets}
    assert sales.exclude(customer=None).exists() and sales.filter(customer=None).exists()
    paid_with = set(SalePayment.objects.filter(account=shop, amount__gt=0).values_list("payment_type__name",
                                                                                        flat=True))
    assert {"Paiement terminal autonome", "Chèque"} <= paid_with
    assert SalePayment.objects.filter(account=shop, tendered__isnull=False).exists()  # change given
    assert SaleLine.objects.filter(account=shop, discount__gt=0).exists()
    # VIP customers' sales carry their type's 10 % on every line, and the sales remember the type.
    assert CustomerType.objects.get(account=shop, name="VIP").discount_bp == 1000
    vip_sales = sales.filter(customer__customer_type__name="VIP", status=Sale.Status.COMPLETED)
    assert vip_sales.exists()
    assert not vip_sales.exclude(customer_type_name="VIP", customer_discount_bp=1000).exists()
    assert not SaleLine.objects.filter(sale__in=vip_sales, customer_discount=0).exists()
    assert not SaleLine.objects.filter(account=shop, customer_discount__gt=0).exclude(
        sale__customer_type_name="VIP").exists()
    # On-account sales, some partly paid up front or later, are still owed on the customers' balances.
    assert Customer.objects.filter(account=shop, balance__gt=0).count() >= 3
    assert sales.filter(status=Sale.Status.ON_ACCOUNT, paid_total__gt=0).exists()
    assert AuditEvent.objects.filter(account=shop, action="sale.payment_taken").exists()

    check_receipts_follow_each_other(shop)
    check_stock_adds_up(shop)
    check_balances_are_the_unpaid_sales(shop)
    check_registers_were_worked_in_opening_hours(shop, TODAY.date())
    assert RegisterClosureLine.objects.filter(account=shop).exclude(difference=0).exists()
    first_sale = sales.order_by("created_at").first().created_at
    assert Product.objects.filter(account=shop, created_at__gte=first_sale).count() == 0
    assert Customer.objects.filter(account=shop, created_at__gte=first_sale).count() == 0

    # The second account has a handful of its own, and nothing of the demo shop's.
    assert 3 <= Product.objects.filter(account=other).count() <= 10
    assert 3 <= Customer.objects.filter(account=other).count() <= 12
    assert Sale.objects.filter(account=other).exists()
    assert not set(Product.objects.filter(account=other).values_list("name", flat=True)) & {p.name for p in products}
    other_outlets = set(Outlet.objects.filter(account=other).values_list("pk", flat=True))
    assert set(Sale.objects.filter(account=other).values_list("outlet", flat=True)) <= other_outlets
    assert not StockLevel.objects.filter(account=other, outlet__in=outlets).exists()
    assert not Sale.objects.filter(account=other, customer__in=customers).exists()
    check_receipts_follow_each_other(other)
    check_stock_adds_up(other)

    # Running it again, that day or later, adds nothing.
    before = {account.pk: counts(account) for account in (shop, other)}
    call_command("demo_data", stdout=io.StringIO())
    assert {account.pk: counts(account) for account in (shop, other)} == before


def test_the_small_set_is_quick_to_load_and_complete(db):
    account = AccountFactory(name="Boutique Petite")
    RegisterFactory(outlet__account=account, outlet__address="4 cours Victor-Hugo, 33000 Bordeaux")

    retail.demo.load(account, small=True)

    assert Product.objects.filter(account=account).count() == 6
    assert Customer.objects.filter(account=account).exclude(customer_type=None).count() == 8
    assert Sale.objects.filter(account=account, status=Sale.Status.COMPLETED).count() >= 5
    check_receipts_follow_each_other(account)
    check_stock_adds_up(account)
    check_balances_are_the_unpaid_sales(account)
    check_registers_were_worked_in_opening_hours(account, timezone.localdate(timezone=PARIS))

    before = counts(account)
    retail.demo.load(account, small=True)
    assert counts(account) == before


def test_the_demo_is_the_same_every_time(db):
    def load_into_a_new_account():
        account = AccountFactory()
        RegisterFactory(outlet__account=account)
        retail.demo.load(account, small=True)
        return account

    def what_happened(account):
        return {
            "products": list(Product.objects.filter(account=account).order_by("pk")
                             .values_list("sku", "barcode", "name", "price", "created_at")),
            "stock": list(StockLevel.objects.filter(account=account).order_by("product__sku")
                          .values_list("product__sku", "quantity")),
            "customers": list(Customer.objects.filter(account=account).order_by("pk")
                              .values_list("first_name", "last_name", "email", "customer_type__name", "balance")),
            "sales": list(Sale.objects.filter(account=account).order_by("pk")
                          .values_list("receipt_number", "status", "total", "paid_total", "customer__email",
                                       "created_at", "completed_at")),
            "payments": list(SalePayment.objects.filter(account=account).order_by("pk")
                             .values_list("payment_type__name", "amount", "tendered", "created_at")),
            "closures": list(RegisterClosureLine.objects.filter(account=account).order_by("pk")
                             .values_list("payment_type__name", "expected", "counted")),
        }

    first, second = what_happened(load_into_a_new_account()), what_happened(load_into_a_new_account())
    assert first == second
    assert first["sales"] and first["payments"] and first["closures"]
