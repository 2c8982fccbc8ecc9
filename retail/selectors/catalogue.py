"""Products: the filtered list shared by the Products page and its CSV export, stock totals for
the rows on screen, stock per outlet for one product, and the "products" export kind."""

from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.models import Outlet
from accounts.tenancy import scoped
from posbackoffice import exports
from retail.models import Product, StockLevel, TaxRate

PAGE_SIZE = 50
KIND_INVENTORY = "inventory"
KIND_NON_INVENTORY = "non_inventory"
STATUS_ACTIVE = "active"
STATUS_INACTIVE = "inactive"


def tax_rates(account):
    return scoped(TaxRate, account).order_by("rate_bp", "name")


def filtered_products(account, params: dict):
    """Products matching the list's filters, in a stable order (name, then id).

    params (JSON-safe, as an export job stores them): q (part of the name, SKU or barcode),
    tax_rate (id), kind ("inventory" / "non_inventory"), status ("active" / "inactive").
    """
    products = scoped(Product, account)
    q = (params.get("q") or "").strip()
    if q:
        # icontains is UPPER(col) LIKE UPPER('%q%') on PostgreSQL: served by the trigram indexes.
        products = products.filter(Q(name__icontains=q) | Q(sku__icontains=q) | Q(barcode__icontains=q))
    if params.get("tax_rate"):
        products = products.filter(tax_rate_id=params["tax_rate"])
    if params.get("kind") == KIND_INVENTORY:
        products = products.filter(track_inventory=True)
    elif params.get("kind") == KIND_NON_INVENTORY:
        products = products.filter(track_inventory=False)
    if params.get("status") == STATUS_ACTIVE:
        products = products.filter(is_active=True)
    elif params.get("status") == STATUS_INACTIVE:
        products = products.filter(is_active=False)
    # When searching, NULLS FIRST (names are never null: the same order) has the trigram indexes find the
    # matches, as in customers.filtered_customers, rather than a walk of the name index.
    return products.order_by(F("name").asc(nulls_first=True if q else None), "id")


def stock_totals(account, product_ids) -> dict[int, int]:
    """product id → units in stock across all outlets, for these products only (one query)."""
    product_ids = list(product_ids)
    if not product_ids:
        return {}
    rows = (scoped(StockLevel, account).filter(product_id__in=product_ids)
            .values("product_id").annotate(total=Sum("quantity")).order_by()
            .values_list("product_id", "total"))
    return dict(rows)


def product_page_rows(account, products) -> list[Product]:
    """The products of one page, each with `.stock_total` (None for non-inventory items)."""
    products = list(products)
    totals = stock_totals(account, [p.pk for p in products if p.track_inventory])
    for product in products:
        product.stock_total = totals.get(product.pk, 0) if product.track_inventory else None
    return products


def stock_by_outlet(account, product: Product) -> list[tuple[Outlet, int]]:
    """[(outlet, quantity)] for every outlet of the account; an outlet never counted shows 0."""
    levels = dict(scoped(StockLevel, account).filter(product=product).values_list("outlet_id", "quantity"))
    return [(outlet, levels.get(outlet.pk, 0)) for outlet in scoped(Outlet, account).order_by("name", "id")]


# ---- CSV export --------------------------------------------------------------------------------------

def _product_rows(account, params):
    currency = account.currency
    stock = (scoped(StockLevel, account).filter(product=OuterRef("pk")).order_by()
             .values("product").annotate(total=Sum("quantity")).values("total"))
    rows = (filtered_products(account, params)
            .annotate(stock=Coalesce(Subquery(stock, output_field=IntegerField()), 0))
            .values_list("sku", "barcode", "name", "price", "tax_rate__name", "track_inventory", "is_active",
                         "stock")
            .iterator(chunk_size=exports.CHUNK))
    for sku, barcode, name, price, tax_name, tracked, active, stock_total in rows:
        # A non-inventory item (a fee, a service) has no stock: an empty cell, not a zero.
        yield (sku, barcode, name, exports.Amount(price, currency), tax_name, tracked, active,
               stock_total if tracked else None)


PRODUCTS_EXPORT = "products"
exports.REGISTRY.register(PRODUCTS_EXPORT, exports.ExportKind(
    permission="manage_products",
    file_stem="products",
    header=lambda: [str(h) for h in (_("SKU"), _("Barcode"), _("Name"), _("Price"), _("Tax rate"),
                                      _("Inventory item"), _("Active"), _("Stock"))],
    count=lambda account, params: filtered_products(account, params).count(),
    rows=_product_rows,
))
