"""Shared builders for the POS core tests (sales, registers, sell screen, history, fulfilments), on top
of tests/retail/report_factories.py: inventory-tracked products with stock, staff with a chosen set of
permissions, and a snapshot of everything a refused action must leave untouched."""

import csv
import dataclasses
import datetime
import html
import io
import zoneinfo

import time_machine

from accounts import permissions as perms
from accounts.models import AuditEvent, Membership, StaffRole, User
from retail.models import (
    Customer,
    CustomerType,
    Fulfilment,
    Product,
    ReceiptSequence,
    RegisterClosureLine,
    RegisterSession,
    Sale,
    SaleLine,
    SalePayment,
    SaleReturn,
    StockLevel,
    StockMove,
    TaxRate,
)
from retail.services.catalogue import product_create, stock_adjust
from tests.factories import RegisterFactory, UserFactory
from tests.retail.report_factories import Shop

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment in the shop's time zone."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=PARIS)


def travel(moment):
    return time_machine.travel(moment, tick=False)


def tracked_product(shop: Shop, *, sku: str, name: str, price: int, rate_bp: int, stock: int = 0) -> Product:
    """An inventory-tracked product, with `stock` counted at the shop's outlet."""
    tax_rate = TaxRate.objects.get(account=shop.account, rate_bp=rate_bp)
    item = product_create(actor=shop.actor, account=shop.account, sku=sku, name=name, price=price,
                          tax_rate_id=tax_rate.pk, track_inventory=True)
    if stock:
        stock_adjust(actor=shop.actor, account=shop.account, product_id=item.pk, outlet_id=shop.outlet.pk,
                     new_quantity=stock)
    return item


def stock_at(item: Product, outlet) -> int:
    return StockLevel.objects.filter(product=item, outlet=outlet).values_list("quantity", flat=True).first() or 0


def staff_with(account, *codes: str, language: str = "en", name: str = "Custom role") -> User:
    """A staff member whose role grants exactly `codes`."""
    role = StaffRole.objects.create(account=account, name=name, preset=perms.CUSTOM, permissions=sorted(codes))
    user = UserFactory(language=language)
    Membership.objects.create(account=account, user=user, role=role)
    return user


def in_english(user: User) -> User:
    user.language = "en"
    user.save(update_fields=["language"])
    return user


def page_text(response) -> str:
    """The response body with HTML entities decoded (apostrophes, quotes), as a reader sees the words."""
    return html.unescape(response.content.decode())


def pos_state(account) -> dict:
    """Everything of the POS core an action could change, for "a refused action changed nothing"."""
    def rows(model, *fields, order="pk"):
        return list(model.objects.filter(account=account).order_by(order).values_list(*fields))

    return {
        "sales": rows(Sale, "pk", "status", "receipt_number", "customer_id", "register_id", "session_id", "subtotal",
                      "discount_total", "tax_total", "total", "paid_total", "returned_total", "note",
                      "completed_at", "voided_at", "parked_at", "customer_type_id", "customer_type_name",
                      "customer_discount_bp"),
        "lines": rows(SaleLine, "pk", "sale_id", "product_id", "quantity", "unit_price", "discount",
                      "customer_discount", "tax_amount", "line_total", "returned_quantity"),
        "payments": rows(SalePayment, "pk", "sale_id", "payment_type_id", "amount", "tendered", "session_id"),
        "returns": rows(SaleReturn, "pk", "amount"),
        "stock": rows(StockLevel, "product_id", "outlet_id", "quantity"),
        "stock_moves": rows(StockMove, "pk"),
        "customers": rows(Customer, "pk", "balance", "first_name", "last_name", "email", "customer_type_id"),
        "customer_types": rows(CustomerType, "pk", "name", "discount_bp"),
        "sessions": rows(RegisterSession, "pk", "status", "opening_float", "closed_at"),
        "closure_lines": rows(RegisterClosureLine, "pk"),
        "fulfilments": rows(Fulfilment, "pk", "status", "tracking_number", "updated_at"),
        "receipt_sequences": rows(ReceiptSequence, "outlet_id", "next_number"),
        "audit": AuditEvent.objects.filter(account=account).count(),
    }


def another_till(shop: Shop) -> Shop:
    """The same shop seen from a second register of its outlet."""
    return dataclasses.replace(shop, register=RegisterFactory(outlet=shop.outlet, account=shop.account))


def choose_register(client, register) -> None:
    """This browser becomes `register` (the sell screen keeps it in a signed cookie)."""
    from django.urls import reverse

    response = client.post(reverse("retail:sell_choose_register"), {"register": register.pk})
    assert response.status_code == 302, response.status_code


def csv_rows(response) -> list[list[str]]:
    """The rows of a CSV download (UTF-8 with BOM; `;` in French, `,` in English)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8")
    assert text.startswith("\ufeff"), "exports start with a byte order mark (Excel reads UTF-8 then)"
    text = text[1:]
    delimiter = ";" if text.splitlines()[0].count(";") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))
