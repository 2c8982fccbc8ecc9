"""The billing cycle: what the task subscriptions.tasks.bill_subscriptions runs for one due subscription
(posbackoffice.jobs: claimed with one conditional UPDATE, so two sweeps, two beats or a redelivered
message bill it once), and the settlement of a cycle's payment (payments.settlement.HANDLERS).

One run: claim → `cycle_prepare` (in one transaction: the transitions without a charge — Scheduled →
Active, Cancelled at the end of the period, Expired after the last interval — or the cycle row of the
period, unique per subscription and period, and its Payment, our row first) → `payment_charge` outside
any transaction (off-session, idempotency key from the Payment row, so from subscription + period +
try) → `payment_settle` calls `cycle_paid` / `cycle_failed` in its transaction: the sale (and
fulfilment) exist exactly when the payment succeeded. A worker killed anywhere leaves either no payment
(the next run makes it), or a pending one (the next run or payments' reconciliation charges it again
with the same key: the processor answers the first result), never two charges for one try."""

import datetime
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.addons import SUBSCRIPTIONS
from accounts.guard import money_task_may_run
from accounts.services import audit_record_many
from accounts.tenancy import scoped
from payments.models import Payment
from payments.services.charges import payment_charge, payment_create
from posbackoffice import jobs
from posbackoffice.errors import DomainError
from retail.services.fulfilments import fulfilment_create
from retail.services.recurring import PaidSale, sales_record_paid
from saved_cards.models import SavedCard
from subscriptions import lifecycle, periods
from subscriptions.models import PlanLine, Subscription, SubscriptionCycle

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 120
# Declines no retry will cure (Stripe's non-retryable list, plus an expired card): no automatic
# retries; the customer is e-mailed the secure card-update link.
HARD_DECLINES = frozenset({"incorrect_number", "invalid_number", "lost_card", "pickup_card", "stolen_card",
                           "revocation_of_authorization", "revocation_of_all_authorizations", "expired_card",
                           "invalid_account", "card_unusable"})


def _due(now) -> Q:
    return Q(due_at__lte=now, status__in=Subscription.BILLABLE)


def due_ids(now=None, limit: int = jobs.SWEEP_LIMIT) -> list[int]:
    """The sweep's read: billable, due, unclaimed (the partial index subscription_due)."""
    now = now or timezone.now()
    return list(Subscription.objects.filter(jobs.unclaimed(now) & _due(now)).order_by("due_at")
                .values_list("pk", flat=True)[:limit])


def bill(subscription_id: int, *, now=None) -> Payment | None:
    """Bill one due subscription, holding its claim. None: not due, claimed elsewhere, or nothing to
    charge (a transition, an account on hold)."""
    now = now or timezone.now()
    claim = jobs.claim(Subscription, subscription_id, seconds=CLAIM_SECONDS, due=_due(now), now=now)
    if claim is None:
        return None
    try:
        account_id = Subscription.objects.values_list("account_id", flat=True).get(pk=subscription_id)
        if not money_task_may_run(account_id, task="subscriptions.bill", addon=SUBSCRIPTIONS,
                                  subscription=subscription_id):
            claim.release(hold=3600)  # looked at again in an hour; nothing charged meanwhile
            return None
        payment_id = cycle_prepare(subscription_id=subscription_id, now=now)
        if payment_id is None:
            return None
        return _with_backup(payment_charge(payment_id=payment_id), now)
    finally:
        claim.release()


def _with_backup(result: Payment, now) -> Payment:
    """Beyond the seed: when the merchant allows it, a retry declined on the subscription's card is tried
    at once on the customer's other valid saved card (the history shows both payments and their cards)."""
    if result.status != Payment.Status.FAILED:
        return result
    backup_id = backup_prepare(failed_payment_id=result.pk, now=now)
    return payment_charge(payment_id=backup_id) if backup_id is not None else result


@transaction.atomic
def backup_prepare(*, failed_payment_id: int, now) -> int | None:
    failed = Payment.objects.get(pk=failed_payment_id)
    cycle = SubscriptionCycle.objects.select_related("subscription__card").get(pk=failed.purpose_ref)
    sub = Subscription.objects.select_for_update().select_related("account", "plan").get(pk=cycle.subscription_id)
    cycle = SubscriptionCycle.objects.select_for_update().get(pk=cycle.pk)
    primary = sub.card
    if (not lifecycle.settings_of(sub.account).use_backup_card or cycle.failures < 2 or cycle.payment_id != failed.pk
            or cycle.status != SubscriptionCycle.Status.FAILED or primary is None
            or failed.payment_method_id != primary.payment_method_id):
        return None  # only a retry (not the first try) declined on the subscription's own card
    today = periods.shop_today(sub.account, now)
    backup = next((card for card in scoped(SavedCard, sub.account).filter(customer_id=sub.customer_id)
                   .exclude(pk=primary.pk).order_by("-is_default", "-created_at")
                   if not card.expired_on(today) and card.processor == primary.processor), None)
    if backup is None:
        return None
    payment = payment_create(
        actor=None, account=sub.account, purpose=Payment.Purpose.SUBSCRIPTION_CYCLE, **cycle_charge(sub, cycle, backup)
        | {"description": _("Subscription: %(plan)s (backup card)") % {"plan": sub.plan.name}})
    cycle.payment, cycle.tries, cycle.status = payment, cycle.tries + 1, SubscriptionCycle.Status.PENDING
    cycle.dunning_note = _("The retry was declined on %(card)s; trying the backup card %(backup)s.") % {
        "card": primary, "backup": backup}
    cycle.save(update_fields=["payment", "tries", "status", "dunning_note"])
    return payment.pk


def _cycle_lines(sub: Subscription) -> list[list[int]]:
    """[product, quantity, unit price] of the plan's lines, in one statement (the product's price where
    the line has no recurring price of its own)."""
    rows = (PlanLine.objects.filter(plan_id=sub.plan_id, product__account_id=sub.account_id).order_by("pk")
            .values_list("product_id", "quantity", "recurring_price", "product__price"))
    return [[product, quantity, price if own is None else own] for product, quantity, own, price in rows]


@transaction.atomic
def cycle_prepare(*, subscription_id: int, now, manual: bool = False, actor=None) -> int | None:
    """The payment to charge now for the subscription's current cycle (made here when none is pending),
    or None after a transition that charges nothing. `manual`: staff's Retry (overdue, whatever the date)."""
    sub = (Subscription.objects.select_for_update(of=("self",)).select_related("plan", "account", "card")
           .get(pk=subscription_id))
    account = sub.account
    if manual:
        if sub.status != Subscription.Status.OVERDUE:
            raise DomainError(_("Only an overdue subscription's failed payment can be retried."))
    elif sub.status not in Subscription.BILLABLE or sub.due_at is None or sub.due_at > now:
        return None
    if sub.status == Subscription.Status.SCHEDULED:
        before = lifecycle.state(sub)
        sub.status = Subscription.Status.ACTIVE
        sub.save(update_fields=["status"])
        lifecycle.audit(sub, "subscription.started", actor, before, now)
    cycle = SubscriptionCycle.objects.select_for_update().filter(subscription=sub, period=sub.next_period).first()
    if cycle is None:
        if sub.cancel_at_period_end:
            lifecycle.end(sub, Subscription.Status.CANCELLED, actor=actor, now=now, action="subscription.cancelled")
            return None
        if sub.plan.duration_intervals is not None and sub.cycles_billed >= sub.plan.duration_intervals:
            lifecycle.end(sub, Subscription.Status.EXPIRED, actor=actor, now=now, action="subscription.expired")
            return None
        cycle = cycle_new(sub, _cycle_lines(sub), now)
        cycle.save(force_insert=True)
    if cycle.status == SubscriptionCycle.Status.PAID:  # settled meanwhile: only the dates were behind
        _advance(sub, cycle, now)
        return None
    if cycle.payment_id and cycle.payment.status == Payment.Status.PENDING:
        return cycle.payment_id  # a try whose outcome we never heard: charged again with its own key
    today = periods.shop_today(account, now)
    try:
        card = lifecycle.usable_card(account, sub.customer_id, sub.card_id, today, loaded=sub.card)
    except lifecycle.CardUnusable:
        _record_failure(sub, cycle, code="card_unusable", now=now)
        return None
    payment = payment_create(actor=actor, account=account, purpose=Payment.Purpose.SUBSCRIPTION_CYCLE,
                             **cycle_charge(sub, cycle, card))
    cycle.payment, cycle.tries, cycle.status = payment, cycle.tries + 1, SubscriptionCycle.Status.PENDING
    cycle.save(update_fields=["payment", "tries", "status"])
    return payment.pk


def cycle_new(sub: Subscription, lines: list[list[int]], now) -> SubscriptionCycle:
    """The subscription's next cycle (not saved): its period's dates, the plan's lines and their amount."""
    return SubscriptionCycle(
        account=sub.account, subscription=sub, period=sub.next_period,
        period_start=periods.period_start(sub.start_date, sub.plan.interval, sub.next_period),
        period_end=periods.period_start(sub.start_date, sub.plan.interval, sub.next_period + 1),
        amount=sum(quantity * price for _product, quantity, price in lines), currency=sub.account.currency,
        lines=lines, created_at=now)


def cycle_charge(sub: Subscription, cycle: SubscriptionCycle, card: SavedCard) -> dict:
    """What a try at charging the cycle on `card` asks payments for (payment_create's arguments)."""
    return {"amount": cycle.amount, "currency": cycle.currency, "method": Payment.Method.SAVED_CARD,
            "mode": Payment.Mode.RECURRING, "purpose_ref": cycle.pk, "payment_method_id": card.payment_method_id,
            "processor_customer_id": card.processor_customer_id, "customer_id": sub.customer_id,
            "outlet_id": sub.outlet_id, "register_id": sub.register_id,
            "description": _("Subscription: %(plan)s") % {"plan": sub.plan.name}}


ADVANCE_FIELDS = ["status", "cycles_billed", "next_period", "next_billing_date", "due_at"]


def _advance(sub: Subscription, cycle: SubscriptionCycle, now) -> None:
    sub_row = _advanced(sub, cycle, now)
    sub.save(update_fields=ADVANCE_FIELDS)
    audit_record_many([sub_row])


def _advanced(sub: Subscription, cycle: SubscriptionCycle, now):
    """After a paid cycle: Active, the next period's date (not saved: ADVANCE_FIELDS); its audit row. The
    end (cancel at period end, last interval) is reached by the billing job at that date."""
    before = lifecycle.state(sub)
    sub.status = Subscription.Status.ACTIVE
    sub.cycles_billed += 1  # each paid cycle comes here once: from cycles_paid, or later from cycle_prepare
    sub.next_period = cycle.period + 1
    sub.next_billing_date = periods.period_start(sub.start_date, sub.plan.interval, sub.next_period)
    sub.due_at = periods.day_start(sub.account, sub.next_billing_date)
    return lifecycle.audit_row(sub, "subscription.renewed", None, before, now, cycle=cycle.pk)


def _lock_cycle(payment: Payment) -> tuple[Subscription, SubscriptionCycle]:
    sub = (Subscription.objects.select_for_update(of=("self",))
           .select_related("plan", "account", "card", "customer", "created_by").get(cycles__pk=payment.purpose_ref))
    return sub, SubscriptionCycle.objects.select_for_update().get(pk=payment.purpose_ref)


def cycle_paid(payment: Payment) -> None:
    """Settlement handler (succeeded) for one payment: `cycles_paid`."""
    cycles_paid([payment])


PAID_FIELDS = ["status", "sale", "paid_at", "next_retry_on", "fulfilment_note"]


def cycles_paid(payments: list[Payment]) -> None:
    """Settlement handler (succeeded), for one payment or a batch settled together: each cycle is paid, its
    one sale recorded (and the fulfilment when the plan ships), the subscription Active until its next
    billing date. Rows locked subscriptions first, then cycles, each in pk order; each kind written with
    one statement (sales through retail's `sales_record_paid`)."""
    cycle_ids = [payment.purpose_ref for payment in payments]
    subs = {sub.pk: sub for sub in Subscription.objects.select_for_update(of=("self",))
            .select_related("plan", "account", "card", "customer", "created_by")
            .filter(pk__in=SubscriptionCycle.objects.filter(pk__in=cycle_ids).values("subscription_id")).order_by("pk")}
    cycles = {cycle.pk: cycle for cycle in SubscriptionCycle.objects.select_for_update().filter(pk__in=cycle_ids)
              .order_by("pk")}
    by_account: dict[int, list[tuple[Payment, SubscriptionCycle, Subscription]]] = {}
    for payment in payments:
        cycle = cycles[payment.purpose_ref]
        if cycle.sale_id is not None:
            raise AssertionError(f"cycle {cycle.pk} already has its sale")  # never: a cycle is paid once
        sub = subs[cycle.subscription_id]
        by_account.setdefault(sub.account_id, []).append((payment, cycle, sub))
    advanced, audits = [], []
    for paid in by_account.values():
        account = paid[0][2].account
        sales = sales_record_paid(account=account, sales=[PaidSale(
            actor=sub.created_by, register_id=sub.register_id, customer_id=sub.customer_id,
            lines=[tuple(line) for line in cycle.lines], processor_payment_id=payment.pk, amount=payment.amount,
            source=_("Subscription: %(plan)s") % {"plan": sub.plan.name}, now=payment.settled_at or timezone.now())
            for payment, cycle, sub in paid])
        for (payment, cycle, sub), sale in zip(paid, sales, strict=True):
            now = payment.settled_at or timezone.now()
            cycle.status, cycle.sale, cycle.paid_at = SubscriptionCycle.Status.PAID, sale, now
            cycle.next_retry_on = None
            if sub.plan.ships:
                try:
                    with transaction.atomic():
                        fulfilment_create(actor=sub.created_by, account=account, sale_id=sale.pk, source="subscription")
                except DomainError as refused:  # no address: the sale stands, the history says why no parcel
                    cycle.fulfilment_note = str(refused.message)[:200]
            if sub.status in (Subscription.Status.ACTIVE, Subscription.Status.OVERDUE, Subscription.Status.SCHEDULED):
                audits.append(_advanced(sub, cycle, now))
                advanced.append(sub)
    jobs.update_rows(SubscriptionCycle, list(cycles.values()), PAID_FIELDS)
    if advanced:
        jobs.update_rows(Subscription, advanced, ADVANCE_FIELDS)
        audit_record_many(audits)


def cycle_failed(payment: Payment) -> None:
    """Settlement handler (failed): Overdue, with retries 3, 5 and 7 days after the first failure
    (soft declines), none after a hard decline (the customer gets the card-update link)."""
    now = payment.settled_at or timezone.now()
    sub, cycle = _lock_cycle(payment)
    if sub.card is not None and payment.payment_method_id != sub.card.payment_method_id:
        # The backup card declined too: the retry that failed before it already counted and set the schedule.
        cycle.status = SubscriptionCycle.Status.FAILED
        cycle.dunning_note = _("The backup card was declined too (%(code)s); next automatic retry: %(date)s.") % {
            "code": payment.failure_code, "date": cycle.next_retry_on.isoformat() if cycle.next_retry_on else "—"}
        cycle.save(update_fields=["status", "dunning_note"])
        return
    _record_failure(sub, cycle, code=payment.failure_code, now=now)


def _record_failure(sub: Subscription, cycle: SubscriptionCycle, *, code: str, now) -> None:
    # The first failure is the cycle's first try, made when the cycle was (the retries count from it).
    cycle.first_failed_on = cycle.first_failed_on or periods.shop_today(sub.account, min(cycle.created_at, now))
    cycle.failures += 1
    cycle.status = SubscriptionCycle.Status.FAILED
    hard = code in HARD_DECLINES
    if hard:
        cycle.next_retry_on = None
        cycle.dunning_note = _("Hard decline (%(code)s): no automatic retry; the customer was sent a card-update "
                               "link.") % {"code": code}
    elif cycle.failures <= len(periods.RETRY_DAYS):
        cycle.next_retry_on = cycle.first_failed_on + datetime.timedelta(days=periods.RETRY_DAYS[cycle.failures - 1])
        cycle.dunning_note = _("Soft decline (%(code)s): automatic retry on %(date)s.") % {
            "code": code, "date": cycle.next_retry_on.isoformat()}
    else:
        cycle.next_retry_on = None
        cycle.dunning_note = _("Soft decline (%(code)s): the automatic retries are over.") % {"code": code}
    cycle.save(update_fields=["failures", "first_failed_on", "status", "next_retry_on", "dunning_note"])
    before = lifecycle.state(sub)
    if sub.status in (Subscription.Status.ACTIVE, Subscription.Status.OVERDUE, Subscription.Status.SCHEDULED):
        sub.status = Subscription.Status.OVERDUE
    sub.due_at = periods.day_start(sub.account, cycle.next_retry_on) if cycle.next_retry_on else None
    sub.save(update_fields=["status", "due_at"])
    lifecycle.audit(sub, "subscription.payment_failed", None, before, now, cycle=cycle.pk, code=code,
                    hard=hard, next_retry_on=cycle.next_retry_on)
    if hard:
        from subscriptions.emails import queue_card_update

        queue_card_update(sub)


def subscription_retry(*, actor, account, subscription_id: int, now=None) -> Payment:
    """Staff's Retry on a failed payment: charged at once; on success the subscription is Active again
    and the sale (and shipping slip) are generated."""
    now = now or timezone.now()
    sub = scoped(Subscription, account).filter(pk=subscription_id).first()
    if sub is None:
        raise DomainError(_("This subscription does not exist."))
    claim = jobs.claim(Subscription, sub.pk, seconds=CLAIM_SECONDS, due=Q(), now=now)
    if claim is None:
        raise DomainError(_("A charge of this subscription is in progress; try again in a moment."))
    try:
        payment_id = cycle_prepare(subscription_id=sub.pk, now=now, manual=True, actor=actor)
        if payment_id is None:
            raise DomainError(_("This subscription has no card that can be charged; change its card."))
        return payment_charge(payment_id=payment_id)
    finally:
        claim.release()


def remind_renewals(now) -> int:
    """Beyond the seed: e-mail the renewal reminder (amount and date) of plans that ask for one, once
    per billing date, to active subscribers with an e-mail address."""
    from subscriptions.emails import queue_reminder

    sent = 0
    candidates = (Subscription.objects.filter(status=Subscription.Status.ACTIVE, next_billing_date__isnull=False,
                                              plan__renewal_reminder_days__isnull=False, cancel_at_period_end=False)
                  .exclude(customer__email="").select_related("plan", "customer", "account"))
    for sub in candidates.iterator(chunk_size=500):
        day = sub.next_billing_date
        if sub.reminded_for == day:
            continue
        if periods.shop_today(sub.account, now) + datetime.timedelta(days=sub.plan.renewal_reminder_days) != day:
            continue
        with transaction.atomic():
            if not Subscription.objects.filter(pk=sub.pk).exclude(reminded_for=day).update(reminded_for=day):
                continue
            queue_reminder(sub, sum(quantity * price for _p, quantity, price in _cycle_lines(sub)), day)
        sent += 1
    return sent
