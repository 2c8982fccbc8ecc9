"""Reads of subscriptions, always scoped to one merchant account."""

import datetime

from django.db.models import Q

from accounts.tenancy import scoped
from payments.models import Payment
from posbackoffice.keyset import Keyset
from retail.models import Customer, Product
from saved_cards.models import SavedCard
from subscriptions import periods
from subscriptions.models import Plan, Subscription, SubscriptionCycle

SUBSCRIPTION_PAGES = Keyset(Subscription, "-created_at", "-id", size=50)
SEARCH_LIMIT = 20


def plans(account, *, archived: bool = False):
    return scoped(Plan, account).filter(archived_at__isnull=not archived).prefetch_related("lines__product")


def subscription_page(account, params: dict, *, after=None, before=None):
    subs = scoped(Subscription, account).select_related("customer", "plan")
    if params.get("status"):
        subs = subs.filter(status=params["status"])
    if params.get("q"):
        words = params["q"].split()[:4]
        for word in words:
            subs = subs.filter(Q(customer__first_name__icontains=word) | Q(customer__last_name__icontains=word)
                               | Q(customer__company__icontains=word) | Q(customer__email__icontains=word))
    return SUBSCRIPTION_PAGES.page(subs, after=after, before=before)


def customer_search(account, query: str) -> list[Customer]:
    query = query.strip()
    if not query:
        return []
    customers = scoped(Customer, account)
    for word in query.split()[:4]:
        customers = customers.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word)
                                     | Q(company__icontains=word) | Q(email__icontains=word))
    return list(customers.order_by("last_name", "first_name", "id")[:SEARCH_LIMIT])


def product_search(account, query: str) -> list[Product]:
    query = query.strip()
    if not query:
        return []
    return list(scoped(Product, account).filter(is_active=True)
                .filter(Q(name__icontains=query) | Q(sku__icontains=query) | Q(barcode__icontains=query))
                .order_by("name", "id")[:SEARCH_LIMIT])


def usable_cards(account, customer, today: datetime.date) -> list[SavedCard]:
    cards = scoped(SavedCard, account).filter(customer=customer).order_by("-is_default", "-created_at", "-id")
    return [card for card in cards if not card.expired_on(today)]


def cycle_payments(account, sub: Subscription) -> list[Payment]:
    """The subscription's payment history, newest first, each with its cycle (`.cycle`)."""
    cycles = {cycle.pk: cycle for cycle in scoped(SubscriptionCycle, account).filter(subscription=sub)}
    payments = list(scoped(Payment, account).filter(purpose=Payment.Purpose.SUBSCRIPTION_CYCLE,
                                                    purpose_ref__in=list(cycles)).order_by("-created_at", "-id"))
    for payment in payments:
        payment.cycle = cycles[payment.purpose_ref]
    return payments


def amount_per_interval(sub: Subscription) -> int:
    """What the next cycle would charge (the plan's lines now; a cycle keeps what it was billed)."""
    lines = list(sub.plan.lines.select_related("product"))
    return sum(line.quantity * (line.product.price if line.recurring_price is None else line.recurring_price)
               for line in lines)


def next_amount(sub: Subscription) -> int | None:
    if sub.due_at is None:
        return None
    open_cycle = sub.cycles.filter(period=sub.next_period).exclude(status=SubscriptionCycle.Status.PAID).first()
    return open_cycle.amount if open_cycle else amount_per_interval(sub)


def next_payment_date(sub: Subscription, account) -> datetime.date | None:
    if sub.due_at is None:
        return None
    if sub.status == Subscription.Status.OVERDUE:
        return periods.shop_today(account, sub.due_at) if sub.due_at else None
    if sub.cancel_at_period_end:
        return None
    if sub.plan.duration_intervals is not None and sub.cycles_billed >= sub.plan.duration_intervals:
        return None
    return sub.next_billing_date


def planned_end(sub: Subscription) -> datetime.date | None:
    """The last day of a fixed duration (or of the current period when cancelled at its end)."""
    if sub.cancel_at_period_end and sub.next_billing_date:
        return sub.next_billing_date
    if sub.plan.duration_intervals is None:
        return sub.ended_at.date() if sub.ended_at else None
    remaining = sub.plan.duration_intervals - sub.cycles_billed
    return periods.period_start(sub.start_date, sub.plan.interval, sub.next_period + max(remaining, 0))


def failed_cycle(sub: Subscription) -> SubscriptionCycle | None:
    return sub.cycles.filter(status=SubscriptionCycle.Status.FAILED).select_related("payment").first()
