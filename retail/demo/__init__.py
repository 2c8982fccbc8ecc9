"""Demo data of the POS core: a catalogue with stock at every outlet, customer types and customers,
and a few weeks of sales before today. Idempotent: each part is skipped when its rows exist.

Everything is made through the services, at past moments passed as `now=`, with a seeded random
generator, so the demo is the same every time it is loaded on a given day."""

import datetime
import random
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone

from accounts import permissions as perms
from accounts.models import Membership, Outlet
from accounts.tenancy import scoped
from retail.demo import data
from retail.demo.sales import Trading, department_of_address
from retail.models import Customer, CustomerType, PaymentType, Product, RegisterSession, Sale, TaxRate
from retail.services.catalogue import product_create, stock_adjust
from retail.services.customers import customer_create, customer_type_create
from retail.services.shop import payment_type_create, shop_setup

STANDARD_VAT_BP = 2000  # clothing, accessories and services all carry the French standard rate


@dataclass(frozen=True)
class Plan:
    catalogue: list[data.Item]
    fee: data.Item | None
    customer_types: list[str]
    customers_per_type: dict[str, int]
    days: int  # calendar days of trading, ending yesterday
    scale: float  # multiplies the number of sales per register and day
    seed: str
    barcode_prefix: str  # 7 digits; "2…" is GS1's range for numbers a shop assigns itself


FULL = Plan(catalogue=data.CATALOGUE, fee=data.SUBSCRIPTION_FEE, customer_types=data.CUSTOMER_TYPES,
            customers_per_type=data.CUSTOMERS_PER_TYPE, days=21, scale=1.0, seed="posbackoffice demo",
            barcode_prefix="2000100")
SMALL = Plan(catalogue=data.SMALL_CATALOGUE, fee=None, customer_types=data.SMALL_CUSTOMER_TYPES,
             customers_per_type=data.SMALL_CUSTOMERS_PER_TYPE, days=4, scale=0.5, seed="posbackoffice demo small",
             barcode_prefix="2000200")
# Products and customers are in place this long before the first day of sales.
LEAD_DAYS = 35


def load(account, *, small: bool = False):
    """Full: the demo shop (~40 products and a subscription fee, 60 customers, three weeks of sales).
    Small: a handful of products and customers and a few days of sales (the second account, quick tests)."""
    plan = SMALL if small else FULL
    tz = zoneinfo.ZoneInfo(account.timezone)
    first_day = timezone.localdate(timezone=tz) - datetime.timedelta(days=plan.days)
    set_up_at = datetime.datetime.combine(first_day - datetime.timedelta(days=LEAD_DAYS), datetime.time(9, 0),
                                          tzinfo=tz)
    shop_setup(account=account)
    owner = scoped(Membership, account).get(role__preset=perms.OWNER).user
    for name in (data.TERMINAL, data.CHEQUE):
        if not scoped(PaymentType, account).filter(name__iexact=name).exists():
            payment_type_create(actor=owner, account=account, name=name, now=set_up_at)
    if not scoped(Product, account).exists():
        _catalogue(account, plan, owner=owner, at=set_up_at, rng=_random(plan, "catalogue"))
    if not scoped(Customer, account).exists():
        _customers(account, plan, owner=owner, since=set_up_at, days=LEAD_DAYS, rng=_random(plan, "customers"))
    # A register opened (or a sale made) by hand before the demo loaded would clash with past sessions.
    if not (scoped(Sale, account).exists() or scoped(RegisterSession, account).exists()):
        days = [first_day + datetime.timedelta(days=n) for n in range(plan.days)]
        fee_sku = plan.fee.sku if plan.fee else ""
        Trading(account, rng=_random(plan, "sales"), scale=plan.scale, fee_sku=fee_sku).run(days)


def _random(plan: Plan, part: str) -> random.Random:
    # One generator per part, so a part loaded on a later run comes out as it would have on the first.
    return random.Random(f"{plan.seed} {part}")  # demo data, not a secret  # nosec B311


def ean13(first_twelve: str) -> str:
    """The 12 digits followed by their EAN-13 check digit."""
    if len(first_twelve) != 12 or not first_twelve.isdigit():
        raise ValueError(f"an EAN-13 starts with 12 digits, not {first_twelve!r}")
    odd_even = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(first_twelve))
    return first_twelve + str(-odd_even % 10)


def _catalogue(account, plan: Plan, *, owner, at: datetime.datetime, rng: random.Random) -> None:
    tax_rate = scoped(TaxRate, account).get(rate_bp=STANDARD_VAT_BP)
    outlets = list(scoped(Outlet, account).order_by("pk"))
    for number, item in enumerate(plan.catalogue, start=1):
        moment = at + datetime.timedelta(minutes=number)
        product = product_create(actor=owner, account=account, sku=item.sku, name=item.name, price=item.price,
                                 tax_rate_id=tax_rate.pk, barcode=ean13(f"{plan.barcode_prefix}{number:05d}"),
                                 now=moment)
        for index, outlet in enumerate(outlets):
            # The first outlet is the flagship: it stocks more of everything.
            if index == 0:
                quantity = 12 + 9 * item.weight + rng.randint(0, 8)
            else:
                quantity = 6 + 4 * item.weight + rng.randint(0, 5)
            stock_adjust(actor=owner, account=account, product_id=product.pk, outlet_id=outlet.pk,
                         new_quantity=quantity, note="Inventaire d’ouverture", now=moment)
    if plan.fee is not None:
        # A non-inventory item: selling it never moves stock. The subscriptions feature finds it by SKU.
        product_create(actor=owner, account=account, sku=plan.fee.sku, name=plan.fee.name, price=plan.fee.price,
                       tax_rate_id=tax_rate.pk, track_inventory=False,
                       now=at + datetime.timedelta(minutes=len(plan.catalogue) + 1))


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def _customers(account, plan: Plan, *, owner, since: datetime.datetime, days: int, rng: random.Random) -> None:
    types = {}
    for name in plan.customer_types:
        types[name] = (scoped(CustomerType, account).filter(name=name).first()
                       or customer_type_create(actor=owner, account=account, name=name, now=since,
                                               discount_bp=data.CUSTOMER_TYPE_DISCOUNTS.get(name, 0)))
    departments = [department_of_address(outlet.address) for outlet in scoped(Outlet, account)
                   .order_by("pk")]
    departments = [d for d in departments if d in data.STREETS] or ["75"]
    total = sum(plan.customers_per_type.values())
    names = rng.sample([(first, last) for first in data.FIRST_NAMES for last in data.LAST_NAMES], total)
    kinds = [kind for kind, count in plan.customers_per_type.items() for _ in range(count)]
    rng.shuffle(kinds)
    companies = iter(rng.sample(data.COMPANIES, len(data.COMPANIES)))
    rows, emails = [], set()
    for (first, last), kind in zip(names, kinds, strict=True):
        # Most customers live near the first outlet, the others near one of the other outlets.
        department = departments[0] if len(departments) == 1 or rng.random() < 0.65 else rng.choice(departments[1:])
        street, postcode = rng.choice(data.STREETS[department])
        company = next(companies) if kind == "Professionnel" else ""
        local = f"{_ascii(first)}.{_ascii(last)}"
        domain = f"{_ascii(company)}.example" if company else rng.choice(["example.com", "example.net", "example.org"])
        email = f"{local}@{domain}"
        while email in emails:
            email = f"{local}{rng.randint(2, 99)}@{domain}"
        emails.add(email)
        day = since + datetime.timedelta(days=rng.randrange(1, days), minutes=rng.randint(60, 9 * 60))
        if day.weekday() == 6:  # the shop is closed on Sundays
            day -= datetime.timedelta(days=1)
        rows.append((day, dict(
            first_name=first, last_name=last, company=company, email=email,
            phone=f"06 39 98 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}",
            address_line1=f"{rng.randint(1, 140)} {street}", address_line2=rng.choice(data.ADDRESS_LINE2),
            postcode=postcode, city=data.CITIES[department], country="FR", customer_type_id=types[kind].pk,
            notes=rng.choice(data.CUSTOMER_NOTES[kind]) if kind in data.CUSTOMER_NOTES and rng.random() < 0.5 else "",
        )))
    for created_at, fields in sorted(rows, key=lambda row: row[0]):
        customer_create(actor=owner, account=account, now=created_at, **fields)
