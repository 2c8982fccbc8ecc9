"""Reads for the sell screen."""

from django.db.models import F, Q

from accounts.models import Register
from accounts.tenancy import scoped
from retail.models import Customer, PaymentType, Product, RegisterSession, Sale, ShopSettings, StockLevel

SEARCH_LIMIT = 12


def registers_with_state(account):
    registers = list(scoped(Register, account).filter(is_active=True).select_related("outlet")
                     .order_by("outlet__name", "name"))
    open_ids = set(scoped(RegisterSession, account).filter(status=RegisterSession.Status.OPEN)
                   .values_list("register_id", flat=True))
    return [(register, register.pk in open_ids) for register in registers]


def open_session(account, register) -> RegisterSession | None:
    return scoped(RegisterSession, account).filter(register=register, status=RegisterSession.Status.OPEN).first()


def sale_in_progress(account, register_id) -> Sale | None:
    """The cart of an active register (with the register and its outlet) when the register is open and the
    cart belongs to its open session, in one query; otherwise None, and `sales.sale_start` finds, moves or
    creates it."""
    return (scoped(Sale, account).select_related("register__outlet", "customer")
            .filter(register_id=register_id, register__is_active=True, status=Sale.Status.OPEN,
                    session__status=RegisterSession.Status.OPEN).first())


def empty_cart(account, register) -> Sale:
    """What an open register without a sale in progress shows: an empty cart that is not saved (no pk)
    until an action needs it (sales.sale_start)."""
    prices_include_tax = scoped(ShopSettings, account).values_list("prices_include_tax", flat=True).get()
    return Sale(account=account, register=register, outlet_id=register.outlet_id, currency=account.currency,
                prices_include_tax=prices_include_tax)


def product_search(account, outlet_id: int, query: str) -> list[dict]:
    """Active products whose name, SKU or barcode contains the query; exact codes first."""
    query = query.strip()
    if not query:
        return []
    products = list(
        scoped(Product, account).filter(is_active=True)
        .filter(Q(name__icontains=query) | Q(sku__icontains=query) | Q(barcode__icontains=query))
        # NULLS FIRST (names are never null: the same order): the trigram indexes find the matches and the
        # few are sorted, rather than PostgreSQL walking the name index in the hope of meeting them early
        # ("écharpe", last in name order among 10,000 products: 12 ms of SQL, now 1).
        .select_related("tax_rate").order_by(F("name").asc(nulls_first=True), "id")[:SEARCH_LIMIT]
    )
    exact = query.lower()
    products.sort(key=lambda p: (p.sku.lower() != exact and p.barcode != query, p.name.lower()))
    stock = dict(scoped(StockLevel, account).filter(outlet_id=outlet_id, product__in=products)
                 .values_list("product_id", "quantity"))
    return [{"product": p, "stock": stock.get(p.pk, 0) if p.track_inventory else None} for p in products]


def customer_search(account, query: str) -> list[Customer]:
    query = query.strip()
    if not query:
        return []
    condition = Q()
    for word in query.split()[:3]:
        condition &= (Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(company__icontains=word)
                      | Q(email__icontains=word) | Q(phone__icontains=word))
    # NULLS FIRST: see product_search and customers.filtered_customers.
    return list(scoped(Customer, account).filter(condition).select_related("customer_type")
                .order_by(F("last_name").asc(nulls_first=True), "first_name", "id")[:8])


def cart(account, sale: Sale) -> dict:
    lines = list(sale.lines.all()) if sale.pk is not None else []  # an empty cart not started has none
    # Payments of a cart are all positive (refunds come after completion): none paid, none to read.
    payments = list(sale.payments.select_related("payment_type")) if sale.paid_total else []
    last_cash = next((p for p in reversed(payments) if p.tendered), None)
    return {
        "sale": sale,
        "lines": lines,
        "payments": payments,
        "change_due": last_cash.change_given if last_cash else 0,
        # A query the template runs only when it shows the payment buttons (something left to pay).
        "payment_types": scoped(PaymentType, account).filter(is_active=True).exclude(
            kind__in=[PaymentType.Kind.ON_ACCOUNT, PaymentType.Kind.CARD]),
    }


def parked_sales(account, outlet_id: int):
    return (scoped(Sale, account).filter(status=Sale.Status.PARKED, outlet_id=outlet_id)
            .select_related("customer", "created_by").order_by("-parked_at"))
