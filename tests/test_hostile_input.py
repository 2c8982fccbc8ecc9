"""Feeds every URL's parameters hostile values, as the owner of the account, and expects a clear answer:
never a server error, and nothing saved by a request that was refused (issue 8, "bad input").

For each URL pattern (tests/test_url_walk.py's walk, tests/url_samples/ for the objects in its path) the
test first asks the view as a person would, recording which query parameters and form fields it reads
(every read of a QueryDict: forms, view code and selectors alike), then sends each of them, one at a time,
a sample of the hostile values below, the other fields holding plausible values so the hostile one gets
as deep as it can. Path parameters that are not `<int:...>` get the same values. Requests alternate between
a plain page and htmx. A POST answered 4xx must leave the main tables as they were.

The owner's scene is deliberately rich, so that the views read everything they can: a register chosen and
open with a sale in progress (a line, a cash payment, a customer with a saved card), every add-on on,
saved payment methods on.
"""

import base64
import json
import random
import zlib
from http.cookies import SimpleCookie
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.http import QueryDict
from django.urls import reverse
from django.urls.converters import IntConverter

from accounts import permissions as perms
from accounts.models import Membership
from retail.models import SaleLine, SalePayment
from retail.services import sales as sale_services
from tests.factories import member, owner_of, role, with_addons
from tests.retail.factories import CustomerFactory, CustomPaymentTypeFactory, ProductFactory
from tests.retail.report_factories import make_shop, open_register, product
from tests.saved_cards.builders import card_row, enable, save_card
from tests.test_url_walk import ROUTES, SAMPLES

NUL = "\x00"
# The values every parameter gets: the causes of the 500s found by hand (numbers beyond bigint and int,
# Unicode digits that str.isdigit() accepts and int() or the database refuses, NUL bytes PostgreSQL
# refuses, dates out of range) and the plainly wrong.
ALWAYS = [
    str(2**63), "99999999999999999999", "2147483648", "-1", "²", "１２", f"1{NUL}", "9999-12-31", "abc", "",
]
# A sample of these for each parameter (deterministic: the same run every time).
SOMETIMES = [
    str(10**20), "1111111111111111111", "-9223372036854775809", "0", "-0", "+1", " 7 ", "1.5", "12,50", "1e308",
    "NaN", "Infinity", "١٢", "½", "৩", NUL, f"a{NUL}b", "\x1b[2J", "\u202eevil", "x" * 5000, "9" * 400,
    "0001-01-01", "2026-02-30", "10000-01-01", "2026-13-01", "<b>x</b>", "' OR 1=1 --", "%s%s%n", "../../etc/passwd",
    "2026-01-01T00:00:00+00:00_1",
]
# What the keyset lists' cursor parameters get besides: naive, out of range, not a moment, Unicode digits,
# overflowing ids, not a cursor at all, and the customers list's (base64 JSON) with a NUL or a huge id.
CURSORS = [
    "2026-01-01T00:00:00_1", "9999-12-31T23:59:59+00:00_1", "0001-01-01T00:00:00+14:00_1",
    "2026-01-01T00:00:00+00:00_²", "2026-01-01T00:00:00+00:00_99999999999999999999", "_", "x_1",
    "2026-01-01T25:61:00+00:00_1",
    *(base64.urlsafe_b64encode(json.dumps(place).encode()).decode() for place in (["\x00", "", 1], ["a", "b", 2**70])),
]
CURSOR_PARAMETERS = {"after", "before"}
SAMPLED = 8
# Values that look like what a field wants, so that another field's hostile value gets as deep as it can;
# the scene adds the ids of the owner's own register, product, customer, card, payment type... A prefixed
# field ("tax-name", "m12-role") takes the value of the name after the prefix.
PLAUSIBLE = {
    "amount": "1", "quantity": "1", "opening_float": "0", "price": "1", "discount": "0", "rate": "5",
    "consent": "1", "accept": "1", "outcome": "approve", "name": "Hostile", "sku": "HOSTILE-2",
    "first_name": "Ada", "email": "hostile@example.test", "status": "packed", "payment_method_id": "pm_hostile",
    "processor": "integrated", "payout_schedule": "daily", "timezone": "Europe/Paris", "language": "fr",
    "active": "1", "group_by": "day",
}
# The key sent when finding what a view reads: a view that reads `request.POST or None` reads nothing
# from an empty body.
PROBE = "_probe"
# Variants of a form whose fields depend on one of them (the outlet or the register form of one page).
VARIANTS = {"setup:outlets": [{"kind": "outlet"}, {"kind": "register"}]}
# What the test client's own machinery reads, not the view.
NOT_THE_VIEWS = {"csrfmiddlewaretoken", PROBE}
# Tables a refused POST must leave as they were (every state change also writes an audit row).
COUNTED_TABLES = [
    "accounts_auditevent", "accounts_outlet", "accounts_register", "accounts_staffrole", "accounts_membership",
    "accounts_user", "accounts_outgoingemail", "retail_product", "retail_stocklevel", "retail_stockmove",
    "retail_customer", "retail_customertype", "retail_sale", "retail_saleline", "retail_salepayment",
    "retail_registersession", "retail_paymenttype", "retail_taxrate", "retail_fulfilment", "retail_exportjob",
    "payments_payment", "payments_refund", "payments_paymentattempt", "saved_cards_savedcard",
    "saved_cards_cardsetup", "saved_cards_cardinvite",
]


def _row_counts() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in COUNTED_TABLES))
        return cursor.fetchone()


class _Reads:
    """Records the keys a view reads from any QueryDict (request.GET, request.POST and their copies)."""

    def __init__(self, monkeypatch):
        self.keys = set()
        for method in ("get", "getlist", "__getitem__", "__contains__"):
            original = getattr(QueryDict, method)
            monkeypatch.setattr(QueryDict, method, self._recording(original))

    def _recording(self, original):
        reads = self.keys

        def recorded(query_dict, key, *args, **kwargs):
            if isinstance(key, str):
                reads.add(key)
            return original(query_dict, key, *args, **kwargs)

        return recorded

    def during(self, send, *args, **kwargs) -> set[str]:
        self.keys.clear()
        send(*args, **kwargs)
        return set(self.keys) - NOT_THE_VIEWS


@pytest.fixture
def scene(account, other_account, client):
    """The owner at an open register with a sale in progress; the other account's ids to forge."""
    for each in (account, other_account):
        with_addons(each)
        enable(each)
    member(account, perms.CASHIER)
    shop = make_shop(account)
    open_register(shop)
    item = product(shop, sku="HOSTILE-1", name="Hostile", price=1000, rate_bp=2000)
    buyer = CustomerFactory(account=account)
    card = save_card(buyer)  # a real card at the sandbox processor: charging it succeeds
    sale = sale_services.sale_start(actor=shop.actor, account=account, register_id=shop.register.pk)
    sale_services.sale_add_product(actor=shop.actor, account=account, sale_id=sale.pk, product_id=item.pk, quantity=2)
    sale_services.sale_set_customer(actor=shop.actor, account=account, sale_id=sale.pk, customer_id=buyer.pk)
    sale_services.sale_add_payment(actor=shop.actor, account=account, sale_id=sale.pk,
                                   payment_type_id=shop.cash.pk, amount=500)
    client.force_login(owner_of(account))
    client.post(reverse("retail:sell_choose_register"), {"register": shop.register.pk})

    other_shop = make_shop(other_account)
    other_customer = CustomerFactory(account=other_account)
    forged = {
        "register": other_shop.register.pk, "outlet": other_shop.outlet.pk, "payment_type": other_shop.cash.pk,
        "product": ProductFactory(account=other_account).pk, "customer": other_customer.pk,
        "card": card_row(other_customer).pk, "role": role(other_account, perms.CASHIER).pk,
        "account": other_account.pk, "custom_type": CustomPaymentTypeFactory(account=other_account).pk,
        "membership": Membership.objects.filter(account=other_account).first().pk,
    }
    plausible = {**PLAUSIBLE, "register": str(shop.register.pk), "product": str(item.pk),
                 "customer": str(buyer.pk), "card": str(card.pk), "payment_type": str(shop.cash.pk),
                 "outlet": str(shop.outlet.pk), "account": str(account.pk),
                 "role": str(role(account, perms.MANAGER).pk), "default": str(card.pk),
                 "tax_rate": str(item.tax_rate_id)}
    return {
        "plausible": plausible,
        "forged": {key: str(pk) for key, pk in forged.items()},
        "kwargs": {  # the sell screen's own line and payment, rather than another register's sample
            "retail:sell_line": {"line_id": SaleLine.objects.get(sale=sale).pk},
            "retail:sell_line_remove": {"line_id": SaleLine.objects.get(sale=sale).pk},
            "retail:sell_payment_remove": {"payment_id": SalePayment.objects.get(sale=sale).pk},
        },
    }


def _sample(values, seed: str) -> list:
    return random.Random(zlib.crc32(seed.encode())).sample(values, SAMPLED)


def _forged(forged: dict, key: str) -> list[str]:
    """Ids of the other account's rows for this field: the row of its kind, and two of other kinds."""
    own = forged.get(key, forged.get(key.rpartition("-")[2]))
    others = [pk for kind, pk in sorted(forged.items()) if pk != own]
    return ([own] if own else []) + random.Random(zlib.crc32(key.encode())).sample(others, 2)


def _plausible(key: str, plausible: dict) -> str:
    return plausible.get(key, plausible.get(key.rpartition("-")[2], ""))


def _text_path_params(pattern) -> list[str]:
    """The path parameters that are not `<int:...>` (ASCII digits, safe as they come)."""
    converters = pattern.pattern.converters
    return [name for name in pattern.pattern.regex.groupindex if not isinstance(converters[name], IntConverter)]


class _Visitor:
    """The owner's browser. Every request runs in a savepoint rolled back afterwards, and the browser's
    cookies (session, register) are put back: each request meets the same scene, whatever the one before
    it did (parked the sale, signed out, switched register)."""

    def __init__(self, client, monkeypatch):
        self.client = client
        self.reads = _Reads(monkeypatch)
        self.sent = 0
        self.failures = []

    def send(self, method, url, data, *, check: str = ""):
        """Send, answer the response (None for an exception); with `check`, record what went wrong."""
        self.sent += 1
        cookies = SimpleCookie(self.client.cookies)
        savepoint = transaction.savepoint_create()
        response = None
        try:
            before = _row_counts() if method == "POST" else None
            headers = {"HX-Request": "true"} if self.sent % 2 == 0 else {}  # htmx every other time
            if method == "GET":
                response = self.client.get(url, data, headers=headers)
            elif method == "POST":
                response = self.client.post(url, data, headers=headers)
            else:
                response = self.client.generic(method, url, headers=headers)
            refused = method == "POST" and 400 <= response.status_code < 500
            if check and response.status_code >= 500:
                self.failures.append(f"{method} {url} {check}: {response.status_code}")
            elif check and refused and (after := _row_counts()) != before:
                changed = [table for table, was, now in zip(COUNTED_TABLES, before, after, strict=True) if was != now]
                self.failures.append(f"{method} {url} {check}: refused ({response.status_code}) but changed {changed}")
        except Exception as error:  # the test client raises what the view raised: a server error
            self.failures.append(f"{method} {url} {check}: {type(error).__name__}: {str(error)[:160]}")
        finally:
            transaction.savepoint_rollback(savepoint)
            self.client.cookies = cookies
        return response

    def methods(self, url) -> list[str]:
        """GET and/or POST: what the view answers, from the Allow header of a method it does not take."""
        response = self.send("PUT", url, {})
        if response is None or response.status_code != 405:
            return ["GET", "POST"]
        return [method for method in ("GET", "POST") if method in response["Allow"]]

    def fields_read(self, method, url, variant, plausible) -> tuple[set[str], dict]:
        """The fields the view reads, with plausible values. A view reads some fields only once others
        are right (the payment method id after a valid amount): it is asked again with plausible values
        for what it read, until it reads nothing new."""
        keys = set(variant)
        for _round in range(4):
            baseline = {**{key: _plausible(key, plausible) for key in keys}, **variant}
            read = self.reads.during(self.send, method, url, {**baseline, PROBE: "1"})
            if read <= keys:
                break
            keys |= read
        return keys, {**{key: _plausible(key, plausible) for key in keys}, **variant}


@pytest.mark.parametrize("name,pattern", ROUTES, ids=[name for name, _ in ROUTES])
def test_hostile_values_answer_4xx_and_save_nothing(client, scene, account, monkeypatch, name, pattern):
    kwargs = scene["kwargs"].get(name) or (SAMPLES[name](account) if pattern.pattern.regex.groupindex else {})
    url = reverse(name, kwargs=kwargs)
    visitor = _Visitor(client, monkeypatch)
    baselines = {}

    for method in visitor.methods(url):
        for variant in VARIANTS.get(name, [{}]):
            keys, baseline = visitor.fields_read(method, url, variant, scene["plausible"])
            baselines.setdefault(method, baseline)
            for key in sorted(keys):
                values = ALWAYS + _forged(scene["forged"], key) + _sample(SOMETIMES, f"{name}:{method}:{key}")
                for value in values + (CURSORS if key in CURSOR_PARAMETERS else []):
                    visitor.send(method, url, {**baseline, key: value}, check=f"{key}={value[:40]!r}")
                visitor.send(method, url, {**baseline, key: ["1", "²"]}, check=f"{key}=['1', '²']")

    for param in _text_path_params(pattern):  # the converter may refuse a value: the URL is then not found
        placeholder = reverse(name, kwargs={**kwargs, param: "HOSTILE-PARAM"})
        for value in ALWAYS + _sample(SOMETIMES, f"{name}:path:{param}"):
            target = placeholder.replace("HOSTILE-PARAM", quote(value, safe=""))
            for method, baseline in baselines.items():
                visitor.send(method, target, baseline, check=f"path {param}={value[:40]!r}")

    failures = visitor.failures
    assert not failures, f"{len(failures)} of {visitor.sent} requests failed:\n" + "\n".join(failures[:40])
