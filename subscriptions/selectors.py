"""Reads of subscriptions, always scoped to one merchant account."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth

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
    labels = card_labels(account, sub)
    for payment in payments:
        payment.cycle = cycles[payment.purpose_ref]
        payment.card_text = payment.card_label or labels.get(payment.payment_method_id, "")
    return payments


def card_labels(account, sub: Subscription) -> dict[str, str]:
    """The customer's saved cards by payment method id: a declined payment names the card it was tried on."""
    cards = scoped(SavedCard, account).filter(customer_id=sub.customer_id)
    return {card.payment_method_id: str(card) for card in cards}


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


# ---- the dashboard (beyond the seed) -----------------------------------------------------------------

# Months per interval, to bring each plan's amount to a month (monthly recurring revenue).
MONTHLY_FACTOR = {"weekly": (52, 12), "2weeks": (26, 12), "monthly": (1, 1), "2months": (1, 2), "3months": (1, 3),
                  "6months": (1, 6), "yearly": (1, 12)}


@dataclass(frozen=True)
class MonthRow:
    day: datetime.date  # the month's first day
    net: int  # what subscriptions brought in that month (succeeded cycle payments)


@dataclass(frozen=True)
class Dashboard:
    mrr: int
    active: int
    churn_percent: str
    churned: int
    recovered_count: int
    recovered_amount: int
    months: list[MonthRow]


def dashboard(account, now) -> Dashboard:
    subs = scoped(Subscription, account)
    counts = dict(subs.filter(status__in=[Subscription.Status.ACTIVE, Subscription.Status.OVERDUE])
                  .values_list("plan").annotate(n=Count("pk")))
    mrr = 0
    for plan in scoped(Plan, account).filter(pk__in=list(counts)).prefetch_related("lines__product"):
        amount = sum(line.quantity * (line.product.price if line.recurring_price is None else line.recurring_price)
                     for line in plan.lines.all())
        times, per = MONTHLY_FACTOR[plan.interval]
        mrr += amount * times * counts[plan.pk] // per
    active = subs.filter(status=Subscription.Status.ACTIVE).count()
    since = now - datetime.timedelta(days=30)
    churned = subs.filter(status__in=[Subscription.Status.CANCELLED, Subscription.Status.EXPIRED],
                          ended_at__gte=since).count()
    base = active + churned
    churn = f"{100 * churned / base:.1f}" if base else "0.0"
    today = periods.shop_today(account, now)
    first = periods.add_months(today.replace(day=1), -11)
    start = periods.day_start(account, first)
    recovered = scoped(SubscriptionCycle, account).filter(status=SubscriptionCycle.Status.PAID, failures__gt=0,
                                                          paid_at__gte=start)
    by_month = dict(scoped(Payment, account).filter(purpose=Payment.Purpose.SUBSCRIPTION_CYCLE, settled_at__gte=start,
                                                    status__in=[Payment.Status.SUCCEEDED,
                                                                Payment.Status.PARTIALLY_REFUNDED,
                                                                Payment.Status.REFUNDED])
                    .annotate(month=TruncMonth("settled_at", tzinfo=periods.shop_zone(account)))
                    .values_list("month").annotate(total=Sum(F("amount") - F("amount_refunded"))))
    by_day = {moment.date(): total for moment, total in by_month.items()}
    months = [MonthRow(day=periods.add_months(first, n), net=by_day.get(periods.add_months(first, n), 0))
              for n in range(12)]
    return Dashboard(mrr=mrr, active=active, churn_percent=churn, churned=churned,
                     recovered_count=recovered.count(),
                     recovered_amount=recovered.aggregate(total=Sum("amount"))["total"] or 0, months=months)
