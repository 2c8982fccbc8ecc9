from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Outlet
from accounts.services import audit_record, snapshot
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError
from retail.models import Product, StockLevel, StockMove, TaxRate

PRODUCT_FIELDS = ("sku", "barcode", "name", "price", "tax_rate", "track_inventory", "is_active")


def _check_product(account, *, sku: str, barcode: str, price: int, tax_rate_id: int, exclude_pk=None) -> TaxRate:
    if not sku:
        raise DomainError(_("A product needs a SKU."))
    if price < 0:
        raise DomainError(_("The price cannot be below zero."))
    clashes = scoped(Product, account).exclude(pk=exclude_pk)
    if clashes.filter(sku__iexact=sku).exists():
        raise DomainError(_("Another product already has the SKU %(sku)s.") % {"sku": sku})
    if barcode and clashes.filter(barcode=barcode).exists():
        raise DomainError(_("Another product already has the barcode %(code)s.") % {"code": barcode})
    try:
        return scoped(TaxRate, account).get(pk=tax_rate_id)
    except TaxRate.DoesNotExist:
        raise DomainError(_("Choose a tax rate.")) from None


@transaction.atomic
def product_create(*, actor, account, sku: str, name: str, price: int, tax_rate_id: int, barcode: str = "",
                   track_inventory: bool = True, is_active: bool = True, now=None) -> Product:
    now = now or timezone.now()
    sku, barcode, name = sku.strip(), barcode.strip(), name.strip()
    tax_rate = _check_product(account, sku=sku, barcode=barcode, price=price, tax_rate_id=tax_rate_id)
    if not name:
        raise DomainError(_("A product needs a name."))
    product = Product.objects.create(account=account, sku=sku, barcode=barcode, name=name, price=price,
                                     tax_rate=tax_rate, track_inventory=track_inventory, is_active=is_active,
                                     created_at=now, updated_at=now)
    audit_record(account=account, actor=actor, action="product.created", target=product,
                 after=snapshot(product, PRODUCT_FIELDS), at=now)
    return product


@transaction.atomic
def product_update(*, actor, account, product_id: int, sku: str, name: str, price: int, tax_rate_id: int,
                   barcode: str = "", track_inventory: bool = True, is_active: bool = True) -> Product:
    product = scoped(Product, account).select_for_update().get(pk=product_id)
    sku, barcode, name = sku.strip(), barcode.strip(), name.strip()
    tax_rate = _check_product(account, sku=sku, barcode=barcode, price=price, tax_rate_id=tax_rate_id,
                              exclude_pk=product.pk)
    if not name:
        raise DomainError(_("A product needs a name."))
    before = snapshot(product, PRODUCT_FIELDS)
    product.sku, product.barcode, product.name, product.price = sku, barcode, name, price
    product.tax_rate, product.track_inventory, product.is_active = tax_rate, track_inventory, is_active
    product.updated_at = timezone.now()
    product.save()
    audit_record(account=account, actor=actor, action="product.updated", target=product,
                 before=before, after=snapshot(product, PRODUCT_FIELDS))
    return product


def lock_stock_levels(account, outlet_id: int, product_ids) -> dict[int, StockLevel]:
    """Stock rows of these products at the outlet, created if missing, locked in product order
    (the order apply_stock_moves locks them in, so a stock take and a sale never deadlock)."""
    product_ids = sorted(set(product_ids))
    if not product_ids:
        return {}
    StockLevel.objects.bulk_create(
        [StockLevel(account=account, product_id=pid, outlet_id=outlet_id) for pid in product_ids],
        ignore_conflicts=True,
    )
    rows = (scoped(StockLevel, account).select_for_update()
            .filter(outlet_id=outlet_id, product_id__in=product_ids).order_by("product_id"))
    return {row.product_id: row for row in rows}


def _move_stock_levels(account, outlet_id: int, deltas: dict[int, int]) -> set[int]:
    """Add each delta to the product's stock at the outlet, in one statement (PostgreSQL and SQLite):
    only inventory-tracked products of the account move; a missing stock row starts from zero. Rows
    are written, hence locked, in product order. Returns the products that moved."""
    quote = connection.ops.quote_name
    level, product = quote(StockLevel._meta.db_table), quote(Product._meta.db_table)
    values = ", ".join(["(%s, %s)"] * len(deltas))
    # Only our own quoted tables and placeholders in the SQL (nosec B608 below); every value is a parameter.
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH moves (product_id, delta) AS (VALUES {values}) "  # nosec B608
            f"INSERT INTO {level} (account_id, product_id, outlet_id, quantity) "
            f"SELECT %s, p.id, %s, moves.delta FROM moves JOIN {product} p ON p.id = moves.product_id "
            "WHERE p.account_id = %s AND p.track_inventory ORDER BY p.id "
            f"ON CONFLICT (product_id, outlet_id) DO UPDATE SET quantity = {level}.quantity + excluded.quantity "
            "RETURNING product_id",
            [value for pid in sorted(deltas) for value in (pid, deltas[pid])] + [account.pk, outlet_id, account.pk],
        )
        return {row[0] for row in cursor.fetchall()}


def apply_stock_moves(*, account, outlet_id: int, moves: list[tuple[int, int]], reason: str, sale=None,
                      actor=None, at=None) -> None:
    """Move stock for (product_id, delta) pairs of inventory-tracked products, with a StockMove each.
    Runs inside the caller's transaction; two statements whatever the number of products."""
    apply_stock_moves_many(account=account, outlet_id=outlet_id, reason=reason, at=at,
                           moves=[(pid, delta, sale, actor) for pid, delta in moves])


def apply_stock_moves_many(*, account, outlet_id: int, moves: list[tuple[int, int, object, object]], reason: str,
                           at=None) -> None:
    """`apply_stock_moves` for the moves of many sales recorded together: (product_id, delta, sale, actor)
    each; still two statements."""
    deltas: dict[int, int] = {}
    for pid, delta, _sale, _actor in moves:
        if delta:
            deltas[pid] = deltas.get(pid, 0) + delta
    if not deltas:
        return
    tracked = _move_stock_levels(account, outlet_id, deltas)
    at = at or timezone.now()
    StockMove.objects.bulk_create(
        StockMove(account=account, product_id=pid, outlet_id=outlet_id, delta=delta, reason=reason, sale=sale,
                  actor=actor if actor and actor.pk else None, created_at=at)
        for pid, delta, sale, actor in moves if pid in tracked and delta
    )


@transaction.atomic
def stock_adjust(*, actor, account, product_id: int, outlet_id: int, new_quantity: int, note: str = "",
                 now=None) -> StockLevel:
    """Set the counted quantity of a product at an outlet (stock take)."""
    now = now or timezone.now()
    product = scoped(Product, account).get(pk=product_id)
    if not product.track_inventory:
        raise DomainError(_("“%(name)s” is not an inventory item.") % {"name": product.name})
    scoped(Outlet, account).get(pk=outlet_id)
    level = lock_stock_levels(account, outlet_id, [product.pk])[product.pk]
    delta = new_quantity - level.quantity
    before = {"quantity": level.quantity}
    if delta:
        level.quantity = new_quantity
        level.save(update_fields=["quantity"])
        StockMove.objects.create(account=account, product=product, outlet_id=outlet_id, delta=delta,
                                 reason=StockMove.Reason.ADJUSTMENT, actor=actor, created_at=now)
    audit_record(account=account, actor=actor, action="stock.adjusted", target=product, before=before,
                 after={"quantity": new_quantity, "outlet": outlet_id, "note": note}, at=now)
    return level


def find_by_code(account, code: str):
    """Exact SKU or barcode match among active products (what a scanner sends)."""
    code = code.strip()
    if not code:
        return None
    return (scoped(Product, account).filter(is_active=True)
            .filter(Q(barcode=code) | Q(sku__iexact=code)).select_related("tax_rate").first())


@transaction.atomic
def tax_rate_create(*, actor, account, name: str, rate_bp: int) -> TaxRate:
    """A tax rate the catalogue can use, e.g. "TVA 8,5 %" at 850 basis points."""
    if isinstance(rate_bp, bool) or not isinstance(rate_bp, int):
        raise TypeError("rate_bp must be an int of basis points")
    name = name.strip()
    if not name:
        raise DomainError(_("A tax rate needs a name."))
    if not 0 <= rate_bp <= 10_000:
        raise DomainError(_("A tax rate must be between 0 and 100 %."))
    if scoped(TaxRate, account).filter(name__iexact=name).exists():
        raise DomainError(_("A tax rate named “%(name)s” already exists.") % {"name": name})
    tax_rate = TaxRate.objects.create(account=account, name=name, rate_bp=rate_bp)
    audit_record(account=account, actor=actor, action="tax_rate.created", target=tax_rate,
                 after=snapshot(tax_rate, ("name", "rate_bp")))
    return tax_rate
