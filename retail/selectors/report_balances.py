"""Reports of register closures and of balances (gift cards, store credit): their queries and CSV exports."""

import datetime
from dataclasses import dataclass, field

from django.db.models import BigIntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.tenancy import get_scoped_or_404, scoped
from posbackoffice import exports
from retail.models import Customer, GiftCard, RegisterClosureLine, RegisterSession
from retail.selectors.reports import (
    account_today,
    account_zone,
    in_period,
    period_of,
    register_export,
    sum_or_zero,
)

# ---- register closures ---------------------------------------------------------------------------

def _closure_filter(account, params: dict, prefix: str = "") -> Q:
    condition = Q(**{f"{prefix}status": RegisterSession.Status.CLOSED})
    condition &= in_period(f"{prefix}closed_at", period_of(account, params))
    if params.get("outlet"):
        condition &= Q(**{f"{prefix}register__outlet_id": params["outlet"]})
    if params.get("register"):
        condition &= Q(**{f"{prefix}register_id": params["register"]})
    return condition


def closures(account, params: dict) -> QuerySet:
    """Closed register sessions, newest first, with expected/counted/difference summed over their lines."""
    return (scoped(RegisterSession, account).filter(_closure_filter(account, params))
            .select_related("register__outlet", "opened_by", "closed_by")
            .annotate(expected=sum_or_zero("closure_lines__expected"), counted=sum_or_zero("closure_lines__counted"),
                      difference=sum_or_zero("closure_lines__difference"))
            .order_by("-closed_at", "-id"))


@dataclass
class ClosureDetail:
    session: RegisterSession
    lines: list = field(default_factory=list)

    @property
    def expected(self) -> int:
        return sum(line.expected for line in self.lines)

    @property
    def counted(self) -> int:
        return sum(line.counted for line in self.lines)

    @property
    def difference(self) -> int:
        return sum(line.difference for line in self.lines)


def closure_detail(account, session_id: int) -> ClosureDetail:
    """A closed session of this account (404 otherwise) with its line per payment type."""
    session = get_scoped_or_404(
        RegisterSession.objects.select_related("register__outlet", "opened_by", "closed_by"), account,
        pk=session_id, status=RegisterSession.Status.CLOSED)
    lines = list(scoped(RegisterClosureLine, account).filter(session=session).select_related("payment_type")
                 .order_by("payment_type__position", "payment_type__name"))
    return ClosureDetail(session=session, lines=lines)


# ---- balances: gift cards and store credit -------------------------------------------------------

def gift_cards(account) -> QuerySet:
    return scoped(GiftCard, account).select_related("customer").order_by("-issued_at", "-id")


def gift_card_totals(account) -> dict:
    """{outstanding, expired}: balances of cards still usable today, and of expired cards."""
    expired = Q(expires_on__lt=account_today(account))
    return scoped(GiftCard, account).aggregate(
        outstanding=Coalesce(Sum("balance", filter=~expired), Value(0), output_field=BigIntegerField()),
        expired=Coalesce(Sum("balance", filter=expired), Value(0), output_field=BigIntegerField()),
    )


def store_credit_customers(account) -> QuerySet:
    return scoped(Customer, account).filter(store_credit__gt=0).order_by("last_name", "first_name", "id")


def store_credit_total(account) -> int:
    return store_credit_customers(account).aggregate(total=sum_or_zero("store_credit"))["total"]




# ---- CSV exports ---------------------------------------------------------------------------------

def _stamp(moment: datetime.datetime | None, tz) -> str:
    """Local date and time for a CSV cell, converted here so the file is right whichever process writes it."""
    return timezone.localtime(moment, tz).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _person(name: str | None, email: str | None) -> str:
    return name or email or ""


def _customer_name(first: str, last: str, company: str) -> str:
    return f"{first} {last}".strip() or company or ""



def _closure_lines(account, params) -> QuerySet:
    return (scoped(RegisterClosureLine, account).filter(_closure_filter(account, params, prefix="session__"))
            .order_by("-session__closed_at", "-session_id", "payment_type__position", "payment_type__name"))


def _closure_rows(account, params):
    currency, tz = account.currency, account_zone(account)
    rows = _closure_lines(account, params).values_list(
        "session_id", "session__register__outlet__name", "session__register__name", "session__opened_at",
        "session__opened_by__name", "session__opened_by__email", "session__closed_at", "session__closed_by__name",
        "session__closed_by__email", "payment_type__name", "expected", "counted", "difference",
    ).iterator(chunk_size=exports.CHUNK)
    for (session_id, outlet, register, opened_at, opener_name, opener_email, closed_at, closer_name, closer_email,
         payment_type, expected, counted, difference) in rows:
        yield (session_id, outlet, register, _stamp(opened_at, tz), _person(opener_name, opener_email),
               _stamp(closed_at, tz), _person(closer_name, closer_email), payment_type,
               exports.Amount(expected, currency), exports.Amount(counted, currency),
               exports.Amount(difference, currency))


def _gift_card_rows(account, params):
    currency, tz = account.currency, account_zone(account)
    rows = gift_cards(account).values_list(
        "code", "customer__first_name", "customer__last_name", "customer__company", "balance", "issued_at",
        "expires_on",
    ).iterator(chunk_size=exports.CHUNK)
    for code, first, last, company, balance, issued_at, expires_on in rows:
        yield (code, _customer_name(first or "", last or "", company or ""), exports.Amount(balance, currency),
               _stamp(issued_at, tz), expires_on)


def _store_credit_rows(account, params):
    currency = account.currency
    rows = store_credit_customers(account).values_list(
        "first_name", "last_name", "company", "email", "phone", "store_credit",
    ).iterator(chunk_size=exports.CHUNK)
    for first, last, company, email, phone, credit in rows:
        yield (_customer_name(first, last, company), company, email, phone, exports.Amount(credit, currency))


CLOSURES_EXPORT = register_export(
    "report_register_closures", "register-closures",
    lambda: [_("Closure"), _("Outlet"), _("Register"), _("Opened at"), _("Opened by"), _("Closed at"),
             _("Closed by"), _("Payment type"), _("Expected"), _("Counted"), _("Difference")],
    lambda account, params: _closure_lines(account, params).count(), _closure_rows)
GIFT_CARDS_EXPORT = register_export(
    "report_gift_cards", "gift-cards",
    lambda: [_("Code"), _("Customer"), _("Balance"), _("Issued"), _("Expires on")],
    lambda account, params: gift_cards(account).count(), _gift_card_rows)
STORE_CREDIT_EXPORT = register_export(
    "report_store_credit", "store-credit",
    lambda: [_("Customer"), _("Company"), _("E-mail address"), _("Phone"), _("Store credit")],
    lambda account, params: store_credit_customers(account).count(), _store_credit_rows)
