"""The billing run in batches: what subscriptions.tasks.bill_subscriptions runs for a message of many due
subscription ids (beat's sweep hands a worker BATCH_SIZE ids a message). The steps and the rules are
billing.py's (one due subscription), taken for the whole batch at once so that a renewal costs a few
rows in a few shared statements rather than a dozen transactions of its own:

1. claim: one conditional UPDATE … RETURNING (`jobs.claim_many`: free, still due, FOR UPDATE SKIP LOCKED)
   takes the batch's subscriptions; what another worker holds or already billed is skipped;
2. the account guard, once per account (an account on hold or the add-on off charges nothing: its rows
   are held back an hour, as `billing.bill` holds one);
3. prepare, in one transaction (`cycles_prepare_many`): the subscriptions locked in pk order; for each
   plain renewal (billable, due, no cycle of its period yet, not ending, its card usable) the cycle row,
   its Payment and charge attempt (idempotency key from the payment row, so from subscription + period +
   try) and the audit rows, each kind written with one INSERT (`payments_create_many`). Anything else —
   a cycle already there (a retry, a try whose answer was lost), a period-end cancel, the last interval
   reached, an unusable card — goes through `billing.cycle_prepare`, one at a time, exactly as before;
4. charge (`payments_charge_many`, outside any transaction): the attempts claimed in one UPDATE, the
   processor called once per payment with its key;
5. settle, in one transaction (`payments_settle_many`): payments and attempts updated in one statement
   each, then `billing.cycles_paid` for the succeeded ones (sales, lines, card payments, stock and audit
   rows in bulk through retail's `sales_record_paid`; cycles and subscriptions in one UPDATE each) and
   `billing.cycle_failed` for each declined one (dunning, hard declines, e-mails: unchanged); a declined
   retry then tries the backup card as `billing.bill` does;
6. release the claims still ours.

The rows are the outbox: a worker killed after 3 leaves committed cycles with pending payments, which the
next run (its claim expired) charges again with the same keys — the processor answers the first result —
and settles; killed after 4, the same; nothing is charged twice and a sale exists only with its succeeded
payment, committed in the same transaction."""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.addons import SUBSCRIPTIONS
from accounts.guard import money_task_may_run
from accounts.services import audit_record_many
from payments.models import Payment
from payments.services.batch import payments_charge_many, payments_create_many
from posbackoffice import jobs
from subscriptions import billing, lifecycle, periods
from subscriptions.models import Subscription, SubscriptionCycle

logger = logging.getLogger(__name__)

# Ids a message carries (the sweep's `batch`): big enough that the shared statements dominate, small
# enough that a batch's transactions stay short and its claim (billing.CLAIM_SECONDS) is never near expiry.
BATCH_SIZE = 100
# Due ids one sweep (every minute) enqueues; at a thousand renewals a second a minute bills 60,000.
SWEEP_LIMIT = 20_000


def bill_many(subscription_ids, *, now=None) -> list[Payment]:
    """Bill the due subscriptions among `subscription_ids`, holding their claims (see the module). Returns
    the payments charged, as they ended."""
    now = now or timezone.now()
    claim = jobs.claim_many(Subscription, subscription_ids, seconds=billing.CLAIM_SECONDS, due=billing._due(now),
                            now=now)
    if not claim.pks:
        return []
    try:
        held = _held_accounts(claim.pks)
        if held:
            claim.release(held, hold=3600)  # looked at again in an hour; nothing charged meanwhile
        payment_ids, failure = cycles_prepare_many(subscription_ids=[pk for pk in claim.pks if pk not in held],
                                                   now=now)
        charged = payments_charge_many(payment_ids=payment_ids) if payment_ids else []
        charged = [billing._with_backup(payment, now) for payment in charged]
        if failure is not None:
            raise failure
        return charged
    finally:
        claim.release()


def _held_accounts(subscription_ids: list[int]) -> set[int]:
    """The subscriptions whose account may not move its customers' money now (accounts.guard, asked once
    per account)."""
    account_of = dict(Subscription.objects.filter(pk__in=subscription_ids).values_list("pk", "account_id"))
    may_run = {account_id: money_task_may_run(account_id, task="subscriptions.bill", addon=SUBSCRIPTIONS,
                                              subscriptions=len(subscription_ids))
               for account_id in set(account_of.values())}
    return {pk for pk, account_id in account_of.items() if not may_run[account_id]}


def cycles_prepare_many(*, subscription_ids: list[int], now) -> tuple[list[int], Exception | None]:
    """`billing.cycle_prepare` for the claimed subscriptions: the payments to charge now, and the first
    error of a subscription that could not be prepared (logged; the others go on, it waits for the next
    run)."""
    payment_ids, others = _renewals_create(subscription_ids, now)
    failure = None
    for pk in others:
        try:
            payment_id = billing.cycle_prepare(subscription_id=pk, now=now)
        except Exception as error:
            logger.exception("subscription %s could not be prepared; the next run takes it again", pk)
            failure = failure or error
            continue
        if payment_id is not None:
            payment_ids.append(payment_id)
    return payment_ids, failure


@transaction.atomic
def _renewals_create(subscription_ids: list[int], now) -> tuple[list[int], list[int]]:
    """The plain renewals' cycles and payments, written together; returns their payment ids and the
    subscriptions left to `billing.cycle_prepare`."""
    subs = list(Subscription.objects.select_for_update(of=("self",))
                .select_related("plan", "account", "card", "customer")
                .filter(pk__in=subscription_ids).order_by("pk"))
    begun = set(SubscriptionCycle.objects.filter(subscription_id__in=subscription_ids,
                                                 period=F("subscription__next_period"))
                .values_list("subscription_id", flat=True))
    renewals, others, started, audits = [], [], [], []
    lines_of, today_of = {}, {}
    for sub in subs:
        if sub.status not in Subscription.BILLABLE or sub.due_at is None or sub.due_at > now:
            continue
        plan = sub.plan
        if (sub.pk in begun or sub.cancel_at_period_end
                or (plan.duration_intervals is not None and sub.cycles_billed >= plan.duration_intervals)):
            others.append(sub.pk)
            continue
        if sub.account_id not in today_of:
            today_of[sub.account_id] = periods.shop_today(sub.account, now)
        try:
            card = lifecycle.usable_card(sub.account, sub.customer_id, sub.card_id, today_of[sub.account_id],
                                         loaded=sub.card)
        except lifecycle.CardUnusable:
            others.append(sub.pk)  # its failure is recorded the one way there is
            continue
        if sub.status == Subscription.Status.SCHEDULED:
            before = lifecycle.state(sub)
            sub.status = Subscription.Status.ACTIVE
            started.append(sub.pk)
            audits.append(lifecycle.audit_row(sub, "subscription.started", None, before, now))
        if (sub.plan_id, sub.account_id) not in lines_of:
            lines_of[sub.plan_id, sub.account_id] = billing._cycle_lines(sub)
        renewals.append((sub, card, billing.cycle_new(sub, lines_of[sub.plan_id, sub.account_id], now)))
    if not renewals:
        return [], others
    if started:
        Subscription.objects.filter(pk__in=started).update(status=Subscription.Status.ACTIVE)
    for _sub, _card, cycle in renewals:
        cycle.status, cycle.tries = SubscriptionCycle.Status.PENDING, 1
    SubscriptionCycle.objects.bulk_create([cycle for _sub, _card, cycle in renewals])
    by_account: dict[int, list] = {}
    for renewal in renewals:
        by_account.setdefault(renewal[0].account_id, []).append(renewal)
    payment_ids = []
    for account_renewals in by_account.values():
        payments = payments_create_many(
            actor=None, account=account_renewals[0][0].account, purpose=Payment.Purpose.SUBSCRIPTION_CYCLE,
            charges=[billing.cycle_charge(sub, cycle, card) for sub, card, cycle in account_renewals])
        for (_sub, _card, cycle), payment in zip(account_renewals, payments, strict=True):
            cycle.payment = payment
            payment_ids.append(payment.pk)
    jobs.update_rows(SubscriptionCycle, [cycle for _sub, _card, cycle in renewals], ["payment"])
    audit_record_many(audits)
    return payment_ids, others
