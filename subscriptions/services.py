"""State changes of subscriptions: settings, plans, subscriptions (create, pause, resume, cancel, card
change, notes, manual retry, refund). The billing cycle (a due subscription charged, its settlement)
is in subscriptions.billing. Lock order: subscription, then cycle, then the customer (retail)."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.addons import SUBSCRIPTIONS, account_has_addon
from accounts.models import Register
from accounts.services import audit_record, snapshot
from accounts.tenancy import scoped
from payments.models import Payment
from payments.services.refunds import payment_refund
from posbackoffice.errors import DomainError
from retail.models import Customer, Product
from retail.services.customers import customer_type_assign, customer_type_ensure
from subscriptions import lifecycle, periods
from subscriptions.models import Plan, PlanLine, Subscription, SubscriptionCycle, SubscriptionSettings

MAX_PLAN_LINES = 50
MAX_DURATION = 520
MAX_QUANTITY = 9999
PLAN_FIELDS = ("name", "interval", "ships", "customer_type_id", "duration_intervals", "renewal_reminder_days")


# ---- settings -------------------------------------------------------------------------------------

settings_of = lifecycle.settings_of


@transaction.atomic
def settings_update(*, actor, account, send_confirmation: bool, use_backup_card: bool,
                    now=None) -> SubscriptionSettings:
    now = now or timezone.now()
    row, _created = SubscriptionSettings.objects.select_for_update().get_or_create(account=account)
    before = {"send_confirmation": row.send_confirmation, "use_backup_card": row.use_backup_card}
    row.send_confirmation, row.use_backup_card, row.changed_at = send_confirmation, use_backup_card, now
    row.save()
    audit_record(account=account, actor=actor, action="subscriptions.settings_changed", target=row, before=before,
                 after={"send_confirmation": send_confirmation, "use_backup_card": use_backup_card}, at=now)
    return row


# ---- plans ----------------------------------------------------------------------------------------

def _clean_plan(account, *, name: str, interval: str, lines, duration_intervals, renewal_reminder_days):
    name = (name or "").strip()
    if not name:
        raise DomainError(_("A plan needs a name."))
    if interval not in Plan.Interval.values:
        raise DomainError(_("Choose an interval."))
    lines = list(lines)
    if not lines:
        raise DomainError(_("Add at least one product to the plan."))
    if len(lines) > MAX_PLAN_LINES:
        raise DomainError(_("A plan holds at most %(count)s products.") % {"count": MAX_PLAN_LINES})
    product_ids = [product_id for product_id, _quantity, _price in lines]
    if len(set(product_ids)) != len(product_ids):
        raise DomainError(_("Each product appears once in a plan; change its quantity instead."))
    products = {p.pk: p for p in scoped(Product, account).filter(pk__in=product_ids, is_active=True)}
    if len(products) != len(product_ids):
        raise DomainError(_("This product does not exist or is no longer sold."))
    total = 0
    for product_id, quantity, price in lines:
        if quantity is None or quantity <= 0:
            raise DomainError(_("The quantity must be at least 1."))
        if quantity > MAX_QUANTITY:
            raise DomainError(_("The quantity cannot be above %(max)s.") % {"max": MAX_QUANTITY})
        if price is not None and price < 0:
            raise DomainError(_("A recurring price cannot be negative."))
        total += quantity * (products[product_id].price if price is None else price)
    if total <= 0:
        raise DomainError(_("The plan must charge something each interval."))
    if duration_intervals is not None and not 1 <= duration_intervals <= MAX_DURATION:
        raise DomainError(_("A fixed duration is between 1 and %(max)s intervals.") % {"max": MAX_DURATION})
    if renewal_reminder_days is not None and not 1 <= renewal_reminder_days <= 30:
        raise DomainError(_("A renewal reminder is sent between 1 and 30 days before the charge."))
    return name, lines


def _plan_state(plan: Plan) -> dict:
    return snapshot(plan, PLAN_FIELDS) | {
        "lines": [[line.product_id, line.quantity, line.recurring_price] for line in plan.lines.all()]}


def _write_lines(plan: Plan, lines) -> None:
    plan.lines.all().delete()
    PlanLine.objects.bulk_create([
        PlanLine(account=plan.account, plan=plan, product_id=product_id, quantity=quantity, recurring_price=price,
                 position=position)
        for position, (product_id, quantity, price) in enumerate(lines, start=1)])


def _plan_type(actor, account, customer_type_name: str | None, now):
    if customer_type_name is None:
        return None
    if not customer_type_name.strip():
        raise DomainError(_("Name the customer type subscribers get, or turn the customer type off."))
    return customer_type_ensure(actor=actor, account=account, name=customer_type_name[:80], now=now).pk


@transaction.atomic
def plan_create(*, actor, account, name: str, interval: str, lines, ships: bool = False,
                customer_type_name: str | None = None, duration_intervals: int | None = None,
                renewal_reminder_days: int | None = None, now=None) -> Plan:
    """`lines`: (product id, quantity, recurring price or None for the product's price)."""
    now = now or timezone.now()
    name, lines = _clean_plan(account, name=name, interval=interval, lines=lines,
                              duration_intervals=duration_intervals, renewal_reminder_days=renewal_reminder_days)
    plan = Plan.objects.create(account=account, name=name, interval=interval, ships=ships,
                               customer_type_id=_plan_type(actor, account, customer_type_name, now),
                               duration_intervals=duration_intervals, renewal_reminder_days=renewal_reminder_days,
                               created_at=now)
    _write_lines(plan, lines)
    audit_record(account=account, actor=actor, action="plan.created", target=plan, after=_plan_state(plan), at=now)
    return plan


def _lock_plan(account, plan_id: int) -> Plan:
    try:
        return scoped(Plan, account).select_for_update().get(pk=plan_id)
    except Plan.DoesNotExist:
        raise DomainError(_("This plan does not exist.")) from None


@transaction.atomic
def plan_update(*, actor, account, plan_id: int, name: str, interval: str, lines, ships: bool = False,
                customer_type_name: str | None = None, duration_intervals: int | None = None,
                renewal_reminder_days: int | None = None, now=None) -> Plan:
    """A change applies to future cycles only: a cycle keeps the lines and amount it was billed with.
    The interval of a plan with live subscriptions stays (their billing dates hang on it)."""
    now = now or timezone.now()
    plan = _lock_plan(account, plan_id)
    if plan.is_archived:
        raise DomainError(_("This plan is archived; it cannot be changed."))
    name, lines = _clean_plan(account, name=name, interval=interval, lines=lines,
                              duration_intervals=duration_intervals, renewal_reminder_days=renewal_reminder_days)
    if interval != plan.interval and plan.subscriptions.filter(status__in=Subscription.LIVE).exists():
        raise DomainError(_("The interval of a plan with live subscriptions cannot change; create another plan."))
    before = _plan_state(plan)
    plan.name, plan.interval, plan.ships = name, interval, ships
    plan.customer_type_id = _plan_type(actor, account, customer_type_name, now)
    plan.duration_intervals, plan.renewal_reminder_days = duration_intervals, renewal_reminder_days
    plan.save()
    _write_lines(plan, lines)
    audit_record(account=account, actor=actor, action="plan.updated", target=plan, before=before,
                 after=_plan_state(plan), at=now)
    return plan


@transaction.atomic
def plan_archive(*, actor, account, plan_id: int, now=None) -> Plan:
    """No new subscriptions; the existing ones go on."""
    now = now or timezone.now()
    plan = _lock_plan(account, plan_id)
    if plan.is_archived:
        raise DomainError(_("This plan is already archived."))
    plan.archived_at = now
    plan.save(update_fields=["archived_at"])
    audit_record(account=account, actor=actor, action="plan.archived", target=plan, after={"archived_at": now}, at=now)
    return plan


# ---- subscribing --------------------------------------------------------------------------------

def require_integrated_payments(account) -> None:
    """Subscriptions charge saved cards through our integrated payments: not with another processor."""
    from payments.models import PaymentSettings

    processor = scoped(PaymentSettings, account).values_list("processor", flat=True).first()
    if processor == PaymentSettings.Processor.TYRO:
        raise DomainError(_("Subscriptions need our integrated payments; this account takes cards with Tyro. "
                            "Switch to integrated payments in Setup › Payments first."))


def missing_profile(customer: Customer, plan: Plan | None) -> list[str]:
    """What the customer's profile lacks for this plan (warned about, with a link to the profile)."""
    missing = []
    if not customer.email:
        missing.append(_("e-mail address"))
    if not (customer.first_name or customer.last_name):
        missing.append(_("name"))
    if plan is not None and plan.ships and not (customer.address_line1 and customer.city):
        missing.append(_("postal address (the plan ships)"))
    return missing


@transaction.atomic
def subscription_create(*, actor, account, customer_id: int, plan_id: int, card_id: int | None,
                        register_id: int, start_date: datetime.date | None = None, now=None) -> Subscription:
    """Subscribe the customer: start today (the first cycle is charged at once, by the billing job or
    the caller) or on a later date (Scheduled until then). The plan's customer type is given now."""
    now = now or timezone.now()
    if not account_has_addon(account, SUBSCRIPTIONS):
        raise DomainError(_("The Subscriptions add-on is off for this account."))
    require_integrated_payments(account)
    today = periods.shop_today(account, now)
    customer = scoped(Customer, account).select_for_update().filter(pk=customer_id).first()
    if customer is None:
        raise DomainError(_("Choose a customer."))
    plan = scoped(Plan, account).filter(pk=plan_id).first()
    if plan is None or plan.is_archived:
        raise DomainError(_("Choose a plan that is not archived."))
    register = scoped(Register, account).filter(pk=register_id).first()
    if register is None:
        raise DomainError(_("Choose the register the recurring sales belong to."))
    start_date = start_date or today
    if start_date < today:
        raise DomainError(_("The start date cannot be in the past."))
    if start_date > today + datetime.timedelta(days=366):
        raise DomainError(_("The start date must be within a year."))
    card = lifecycle.usable_card(account, customer.pk, card_id, today)
    starts_now = start_date == today
    sub = Subscription.objects.create(
        account=account, customer=customer, plan=plan, outlet_id=register.outlet_id, register=register, card=card,
        status=Subscription.Status.SCHEDULED, start_date=start_date, next_period=0, next_billing_date=start_date,
        due_at=now if starts_now else periods.day_start(account, start_date), created_by=actor, created_at=now,
        customer_type_id=plan.customer_type_id)
    if plan.customer_type_id:
        customer_type_assign(actor=actor, account=account, customer_id=customer.pk,
                             customer_type_id=plan.customer_type_id, reason=f"subscription {sub.pk}", now=now)
    lifecycle.audit(sub, "subscription.created", actor, None, now, plan=plan.pk, customer=customer.pk)
    if settings_of(account).send_confirmation and customer.email:
        from subscriptions.emails import queue_confirmation

        queue_confirmation(sub)
    from subscriptions import tasks

    if starts_now:
        from posbackoffice import jobs

        jobs.enqueue(tasks.bill_subscriptions, sub.pk)
    return sub


def lock(account, subscription_id: int) -> Subscription:
    try:
        return scoped(Subscription, account).select_for_update().select_related("plan").get(pk=subscription_id)
    except Subscription.DoesNotExist:
        raise DomainError(_("This subscription does not exist.")) from None


def _refuse_unless(sub: Subscription, *statuses, message: str) -> None:
    if sub.status not in statuses:
        raise DomainError(message % {"status": sub.get_status_display().lower()})


def _refuse_while_charging(sub: Subscription) -> None:
    if SubscriptionCycle.objects.filter(subscription=sub, status=SubscriptionCycle.Status.PENDING,
                                        payment__status=Payment.Status.PENDING).exists():
        raise DomainError(_("A charge of this subscription is in progress; try again in a moment."))


@transaction.atomic
def subscription_pause(*, actor, account, subscription_id: int, now=None) -> Subscription:
    """No charges, no fulfilments until resumed."""
    now = now or timezone.now()
    sub = lock(account, subscription_id)
    _refuse_unless(sub, Subscription.Status.ACTIVE, Subscription.Status.OVERDUE,
                   message=_("Only an active or overdue subscription can be paused; this one is %(status)s."))
    _refuse_while_charging(sub)
    before = lifecycle.state(sub)
    lifecycle.abandon_open_cycle(sub)
    sub.status, sub.paused_at, sub.due_at, sub.cancel_at_period_end = Subscription.Status.PAUSED, now, None, False
    sub.save(update_fields=["status", "paused_at", "due_at", "cancel_at_period_end"])
    lifecycle.audit(sub, "subscription.paused", actor, before, now)
    return sub


@transaction.atomic
def subscription_resume(*, actor, account, subscription_id: int, now=None) -> Subscription:
    """Billing starts again at the next interval boundary from today: the paused periods are not
    charged."""
    now = now or timezone.now()
    sub = lock(account, subscription_id)
    _refuse_unless(sub, Subscription.Status.PAUSED,
                   message=_("Only a paused subscription can be resumed; this one is %(status)s."))
    before = lifecycle.state(sub)
    today = periods.shop_today(account, now)
    sub.next_period = periods.first_period_from(sub.start_date, sub.plan.interval, today, at_least=sub.next_period)
    sub.next_billing_date = periods.period_start(sub.start_date, sub.plan.interval, sub.next_period)
    sub.status, sub.paused_at = Subscription.Status.ACTIVE, None
    sub.due_at = periods.day_start(account, sub.next_billing_date)
    sub.save(update_fields=["status", "paused_at", "next_period", "next_billing_date", "due_at"])
    lifecycle.audit(sub, "subscription.resumed", actor, before, now)
    return sub


CANCEL_NOW = "now"
CANCEL_AT_PERIOD_END = "period_end"


@transaction.atomic
def subscription_cancel(*, actor, account, subscription_id: int, when: str, now=None) -> Subscription:
    """Immediately: no more charges, the customer type removed now. At the end of the period: active
    until the next billing date, then Cancelled (and the type removed) by the billing job."""
    now = now or timezone.now()
    sub = lock(account, subscription_id)
    if when not in (CANCEL_NOW, CANCEL_AT_PERIOD_END):
        raise DomainError(_("Choose when the subscription ends."))
    _refuse_unless(sub, *Subscription.LIVE,
                   message=_("This subscription is %(status)s; it cannot be cancelled."))
    _refuse_while_charging(sub)
    if when == CANCEL_NOW or sub.status != Subscription.Status.ACTIVE:
        if when == CANCEL_AT_PERIOD_END:
            raise DomainError(_("Only an active subscription runs to the end of its period; cancel it immediately."))
        lifecycle.end(sub, Subscription.Status.CANCELLED, actor=actor, now=now, action="subscription.cancelled")
        return sub
    if sub.cancel_at_period_end:
        raise DomainError(_("This subscription already ends at the end of the period."))
    before = lifecycle.state(sub)
    sub.cancel_at_period_end = True
    sub.save(update_fields=["cancel_at_period_end"])
    lifecycle.audit(sub, "subscription.cancel_scheduled", actor, before, now)
    return sub


@transaction.atomic
def subscription_card_change(*, actor, account, subscription_id: int, card_id: int, now=None) -> Subscription:
    """Another saved card of the customer. An overdue subscription whose automatic retries are over is
    due again at once (the new card is charged by the next run)."""
    now = now or timezone.now()
    sub = lock(account, subscription_id)
    _refuse_unless(sub, *Subscription.LIVE, message=_("This subscription is %(status)s; its card cannot change."))
    card = lifecycle.usable_card(account, sub.customer_id, card_id, periods.shop_today(account, now))
    if card.pk == sub.card_id:
        raise DomainError(_("This card already pays for the subscription."))
    before = lifecycle.state(sub)
    sub.card = card
    fields = ["card"]
    if sub.status == Subscription.Status.OVERDUE:
        cycle = sub.cycles.filter(status=SubscriptionCycle.Status.FAILED).first()
        if cycle is not None:
            cycle.next_retry_on = periods.shop_today(account, now)
            cycle.save(update_fields=["next_retry_on"])
            sub.due_at = now
            fields.append("due_at")
    sub.save(update_fields=fields)
    lifecycle.audit(sub, "subscription.card_changed", actor, before, now, card_label=str(card))
    return sub


@transaction.atomic
def subscription_notes_update(*, actor, account, subscription_id: int, notes: str, now=None) -> Subscription:
    """Private notes about the customer (staff only, never shown to the customer)."""
    now = now or timezone.now()
    sub = lock(account, subscription_id)
    notes = (notes or "").strip()
    if len(notes) > 5000:
        raise DomainError(_("Notes are at most 5,000 characters."))
    before = {"notes": sub.notes}
    if notes == sub.notes:
        return sub
    sub.notes = notes
    sub.save(update_fields=["notes"])
    audit_record(account=account, actor=actor, action="subscription.notes_changed", target=sub, before=before,
                 after={"notes": notes}, at=now)
    return sub


def subscription_payment(account, subscription_id: int, payment_id: int) -> Payment:
    """One of the subscription's payments (another's, or another account's: DoesNotExist)."""
    cycle_ids = scoped(SubscriptionCycle, account).filter(subscription_id=subscription_id).values("pk")
    return scoped(Payment, account).get(pk=payment_id, purpose=Payment.Purpose.SUBSCRIPTION_CYCLE,
                                        purpose_ref__in=cycle_ids)


def subscription_refund(*, actor, account, subscription_id: int, payment_id: int, amount: int, reason: str):
    """Refund (part of) a payment of the subscription to the card it came from, with a reason; never
    more than what is left of it (payments.services)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the refund."))
    try:
        payment = subscription_payment(account, subscription_id, payment_id)
    except Payment.DoesNotExist:
        raise DomainError(_("This payment does not exist.")) from None
    refund = payment_refund(actor=actor, account=account, payment_id=payment.pk, amount=amount, comment=reason)
    with transaction.atomic():
        sub = lock(account, subscription_id)
        audit_record(account=account, actor=actor, action="subscription.refunded", target=sub,
                     after={"payment": payment.pk, "refund": refund.pk, "amount": amount, "reason": reason,
                            "status": refund.status})
    return refund


def live_subscription_of_card(card) -> str | None:
    """saved_cards.protection: a card paying for a live subscription is kept."""
    if scoped(Subscription, card.account).filter(card_id=card.pk, status__in=Subscription.LIVE).exists():
        return _("A subscription is paid with this card. Change the subscription's card, or cancel it, before "
                 "deleting the card.")
    return None
