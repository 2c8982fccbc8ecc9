"""The card readers' driver (Stripe Terminal's server-driven API through the gateway port).

The driver never waits on a reader. Each step is a `ReaderAction` row written first, then one processor
call made by whoever holds the row's lease (the cashier's request, or the task the sweep queues); the
outcome arrives as the webhook terminal.reader.action_succeeded/failed (terminal.events), as the sell
screen's polling (`action_check`, at most every CHECK_EVERY seconds) or as the scheduled check
(terminal.tasks.check_reader_actions). Each of those calls `_settle_from_reader`, under the action's row
lock: the first one settles, the others find it settled.

Integrated: `sale_payment_start` writes a card_present Payment for the sale (payments.payment_create,
purpose sale) and its PAYMENT action; `action_send` creates the processor's payment (its key comes from
the Payment row: payments.services.charges.charge_key) and hands it to the reader (key from the action row: a
timed-out request is sent again with the same key, never as a new one). The Payment settles through
payments.payment_settle, which pays the sale; the sale stays open for "Complete sale".

Standalone (the account allows it, the reader is in standalone mode): the driver loops on the reader —
AMOUNT (collect inputs, numeric: the total with taxes and fees) → PAYMENT (mode standalone, purpose none:
no sale, no stock) → RECEIPT (collect inputs, e-mail, skippable) → AMOUNT again.
"""

import datetime
import logging
import time

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.services import email_queue
from accounts.tenancy import scoped
from payments.gateway import MERCHANT, get_gateway
from payments.gateway import objects as gateway_objects
from payments.gateway.base import ReaderActionStatus, TerminalReader
from payments.gateway.errors import GatewayError, InvalidRequest, ProcessorUnavailable
from payments.messages import failure_message
from payments.models import Payment
from payments.services.charges import payment_charge, payment_create
from payments.services.refunds import payment_refund
from payments.services.settling import payment_settle
from posbackoffice import jobs
from posbackoffice.errors import DomainError
from posbackoffice.money import format_money, parse_money
from terminal import live
from terminal.models import Reader, ReaderAction

logger = logging.getLogger(__name__)

RETRY_DELAYS = (0.3, 1.0)  # a reader timeout is retried inline with the same key, then left to the sweep
ACTION_LEASE_SECONDS = 60
CHECK_EVERY = datetime.timedelta(seconds=2)  # the sell screen's polling asks the processor at most this often
# A payment on the reader nobody finished: cancelled (the reader's own screen times out earlier).
PAYMENT_TIMEOUT = datetime.timedelta(minutes=5)
# The reader is offline when it has not been in touch for this long (the processor's own rule).
OFFLINE_AFTER = datetime.timedelta(minutes=2)
# The most a reader may take in one payment (Stripe's ceiling for most currencies: 999,999.99).
READER_LIMIT = 99_999_999
SKIP_LABEL_MAX = 14  # Stripe's skip_button limit

def reader_gateway():
    return get_gateway(MERCHANT)


def open_action(reader: Reader) -> ReaderAction | None:
    return ReaderAction.objects.select_for_update().filter(reader=reader, status__in=ReaderAction.OPEN).first()


def queue_action(reader: Reader, kind: str, *, actor=None, payment: Payment | None = None,
           amount: int | None = None) -> ReaderAction:
    try:
        with transaction.atomic():
            action = ReaderAction.objects.create(account_id=reader.account_id, reader=reader, kind=kind,
                                                 payment=payment, amount=amount,
                                                 created_by=actor if getattr(actor, "pk", None) else None)
    except IntegrityError:
        raise DomainError(failure_message("terminal_reader_busy")) from None
    return action


def _amount_inputs() -> list[dict]:
    return [{"type": "numeric", "required": True, "custom_text": {
        "title": _("Total amount")[:40],
        "description": _("Type the total to pay, taxes and fees included.")[:500],
        "submit_button": _("Continue")[:30]}}]


def _receipt_inputs(*, refund: bool = False) -> list[dict]:
    description = (_("Type the customer's e-mail address to send them the refund's receipt.") if refund
                   else _("Type the customer's e-mail address to send them a receipt."))
    return [{"type": "email", "required": False, "custom_text": {
        "title": _("E-mail receipt")[:40], "description": description[:500],
        "submit_button": _("Send receipt")[:30], "skip_button": _("Skip")[:SKIP_LABEL_MAX]}}]


def _refund_inputs(action: ReaderAction) -> list[dict]:
    """The card check before a standalone payment's refund: Stripe's in-person refunds exist only for
    Interac and no server-driven call reads a card without charging or saving it, so the reader asks the
    merchant to confirm that the original card (its brand and last 4 shown) is the one presented."""
    payment = action.payment
    return [{"type": "selection", "required": True, "custom_text": {
        "title": (_("Refund %(amount)s") % {"amount": format_money(action.amount, payment.currency)})[:40],
        "description": (_("Present the original card (%(card)s) and confirm it is the card that paid.")
                        % {"card": payment.card_label or "—"})[:500]},
        "selection": {"choices": [
            {"id": "present", "style": "primary", "text": _("Original card present")[:30]},
            {"id": "absent", "style": "secondary", "text": _("Cancel the refund")[:30]}]}}]


def _retrying(call):
    for delay in (*RETRY_DELAYS, None):
        try:
            return call()
        except ProcessorUnavailable:  # a reader timeout included: same key next time
            if delay is None:
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")


def action_send(*, action_id: int, inline: bool = True) -> ReaderAction:
    """Hand a queued action to its reader (one processor call under the action's lease). Refused by the
    reader (busy, offline, a payment it cannot take): the action fails, and its payment with it. The
    processor not answering: the action stays queued, and is sent again with the same key later."""
    claim = jobs.claim(ReaderAction, action_id, seconds=ACTION_LEASE_SECONDS, due=Q(status=ReaderAction.Status.QUEUED))
    if claim is None:
        return ReaderAction.objects.get(pk=action_id)
    try:
        action = ReaderAction.objects.select_related("reader", "payment").get(pk=action_id)
        gateway = reader_gateway()
        reader_id = action.reader.processor_reader_id
        if action.kind == ReaderAction.Kind.PAYMENT:
            payment = payment_charge(payment_id=action.payment_id)  # the processor's payment, keyed by our row
            if payment.status != Payment.Status.PENDING:
                return finish(action_id, failure_code=payment.failure_code or "canceled")
            if not payment.processor_payment_id:
                return action  # the processor did not answer: the sweep sends it again with the same key
            call = lambda: gateway.process_payment_on_reader(  # noqa: E731
                reader_id=reader_id, payment_id=payment.processor_payment_id,
                idempotency_key=action.idempotency_key("process"))
        else:
            inputs = {ReaderAction.Kind.AMOUNT: _amount_inputs, ReaderAction.Kind.RECEIPT: _receipt_inputs,
                      ReaderAction.Kind.REFUND_RECEIPT: lambda: _receipt_inputs(refund=True)}.get(
                action.kind, lambda: _refund_inputs(action))()
            call = lambda: gateway.collect_inputs_on_reader(  # noqa: E731
                reader_id=reader_id, inputs=inputs, idempotency_key=action.idempotency_key("collect"),
                metadata={"account": str(action.account_id), "reader_action": str(action.pk)})
        try:
            (_retrying(call) if inline else call())
        except ProcessorUnavailable:
            return action
        except GatewayError as refused:
            return finish(action_id, failure_code=refused.code, cancel_payment=True)
        if ReaderAction.objects.filter(pk=action_id, status=ReaderAction.Status.QUEUED).update(
                status=ReaderAction.Status.IN_PROGRESS, sent_at=timezone.now()):
            live.announce(action_id)
        return ReaderAction.objects.get(pk=action_id)
    finally:
        claim.release()


def _cancel_processor_payment(payment: Payment) -> None:
    if payment.status != Payment.Status.PENDING or not payment.processor_payment_id:
        return
    try:
        result = get_gateway(payment.payee).cancel_payment(payment.processor_payment_id)
    except InvalidRequest:  # it ended meanwhile: record how
        result = get_gateway(payment.payee).retrieve_payment(payment.processor_payment_id)
    payment_settle(payment_id=payment.pk, result=result, source="terminal")


def finish(action_id: int, *, failure_code: str = "", cancel_payment: bool = False,
           status: str | None = None, reader_id: int | None = None) -> ReaderAction:
    """End an action (failed with its code, or `status`), its pending payment failing with the same code;
    then the standalone loop's next step. `reader_id`: the action's reader, when the caller has it."""
    payment_id = None
    if reader_id is None or cancel_payment:
        payment_id, reader_id = ReaderAction.objects.values_list("payment_id", "reader_id").get(pk=action_id)
    if payment_id and cancel_payment:
        payment = Payment.objects.get(pk=payment_id)
        try:
            _cancel_processor_payment(payment)
        except ProcessorUnavailable:
            pass
        payment.refresh_from_db()
        if payment.status == Payment.Status.PENDING:
            payment_settle(payment_id=payment_id, error=GatewayError(code=failure_code or "canceled"),
                           source="terminal")
    with transaction.atomic():
        # Lock order (docs/architecture.md): the reader, then its action — as the services that change a
        # reader (mode, removal, a new payment or refund) take them.
        reader = Reader.objects.select_for_update().get(pk=reader_id)
        action = ReaderAction.objects.select_for_update(of=("self",)).select_related("payment").get(pk=action_id)
        follow = _end_locked(action, reader, failure_code=failure_code, status=status)
    return _after_end(action, follow)


def _end_locked(action: ReaderAction, reader: Reader, *, failure_code: str = "",
                status: str | None = None) -> ReaderAction | None:
    """`finish`'s work, the reader and the action locked by the caller: the standalone loop's next step,
    if any, to send once committed."""
    action.reader = reader
    if action.status not in ReaderAction.OPEN:
        return None
    if action.kind == ReaderAction.Kind.PAYMENT and action.payment.status == Payment.Status.SUCCEEDED:
        action.status = ReaderAction.Status.SUCCEEDED  # the card was taken after all
    else:
        action.status = status or ReaderAction.Status.FAILED
        taken = action.payment.failure_code if action.kind == ReaderAction.Kind.PAYMENT else ""
        action.failure_code = (failure_code or taken)[:60]
    action.finished_at = timezone.now()
    action.save(update_fields=["status", "failure_code", "finished_at"])
    live.announce(action.pk)
    return _next_standalone_step(action, reader)


def _after_end(action: ReaderAction, follow: ReaderAction | None) -> ReaderAction:
    if follow is not None:
        # The loop's next step goes to the reader now, in whatever settled this one (a webhook's task,
        # the polling request, the scheduled check); if that fails, the scheduled check sends it.
        action_send(action_id=follow.pk, inline=False)
    return action


def _next_standalone_step(action: ReaderAction, reader: Reader) -> ReaderAction | None:
    """The reader's next step (inside the finishing transaction, the reader locked). After a refund done
    on the reader, in either mode: its receipt (e-mail or skip). The standalone loop: after an amount,
    the payment; after a successful payment, the receipt; otherwise, the next amount."""
    if reader.removed_at is not None:
        return None
    if action.kind == ReaderAction.Kind.REFUND and action.status == ReaderAction.Status.SUCCEEDED:
        return queue_action(reader, ReaderAction.Kind.REFUND_RECEIPT, payment=action.payment, amount=action.amount)
    if reader.mode != Reader.Mode.STANDALONE:
        return None
    if action.kind == ReaderAction.Kind.PAYMENT and action.status == ReaderAction.Status.SUCCEEDED:
        return queue_action(reader, ReaderAction.Kind.RECEIPT, payment=action.payment)
    if action.kind == ReaderAction.Kind.AMOUNT and action.status == ReaderAction.Status.SUCCEEDED:
        payment = payment_create(
            actor=action.created_by, account=reader.account, amount=action.amount, currency=reader.account.currency,
            method=Payment.Method.CARD_PRESENT, mode=Payment.Mode.STANDALONE, outlet_id=reader.outlet_id,
            register_id=reader.register_id,
            description=_("Standalone payment on %(reader)s") % {"reader": reader.label})
        return queue_action(reader, ReaderAction.Kind.PAYMENT, payment=payment)
    if action.status == ReaderAction.Status.CANCELED and action.kind != ReaderAction.Kind.PAYMENT:
        return None  # someone stopped the loop (a mode change, the reader removed)
    return queue_action(reader, ReaderAction.Kind.AMOUNT)


def _read_amount(value: str, currency: str) -> int | None:
    try:
        amount = parse_money(value, currency)
    except DomainError:
        return None
    return amount if 0 < amount <= READER_LIMIT else None


def _settle_from_reader(action_id: int, current: TerminalReader, now) -> ReaderAction:
    """What the processor says the reader did, for our open action."""
    action = ReaderAction.objects.select_related("reader", "payment", "account").get(pk=action_id)
    if action.status not in ReaderAction.OPEN:
        return action
    reader_action = current.action
    if action.kind == ReaderAction.Kind.PAYMENT:
        payment = action.payment
        # Already settled (its payment_intent.succeeded / payment_failed came first): no second processor
        # read, no second settlement — a settled payment never moves again.
        result = get_gateway(payment.payee).retrieve_payment(payment.processor_payment_id) \
            if payment.processor_payment_id and payment.status == Payment.Status.PENDING else None
        if result is not None:
            payment = payment_settle(payment_id=payment.pk, result=result, source="terminal")
        if payment.status == Payment.Status.SUCCEEDED:
            return finish(action_id, status=ReaderAction.Status.SUCCEEDED)
        if payment.status == Payment.Status.FAILED:
            return finish(action_id, failure_code=payment.failure_code)
        mine = reader_action is not None and reader_action.payment_id == payment.processor_payment_id
        if action.status == ReaderAction.Status.IN_PROGRESS and not mine:
            return finish(action_id, failure_code="canceled", cancel_payment=True)  # stopped on the reader
        if mine and reader_action.status == ReaderActionStatus.FAILED:
            return finish(action_id, failure_code=reader_action.failure_code or "canceled", cancel_payment=True)
        return _timeouts(action, current, now)
    collecting = reader_action is not None and reader_action.type == "collect_inputs"
    if action.status == ReaderAction.Status.IN_PROGRESS and not collecting:
        return finish(action_id, failure_code="canceled")
    if not collecting or reader_action.status == ReaderActionStatus.IN_PROGRESS:
        return _timeouts(action, current, now)
    if reader_action.status == ReaderActionStatus.FAILED:
        return finish(action_id, failure_code=reader_action.failure_code or "canceled")
    answer = reader_action.inputs[0] if reader_action.inputs else None
    if action.kind == ReaderAction.Kind.REFUND:
        return _refund_after_check(action, answer)
    if action.kind == ReaderAction.Kind.AMOUNT:
        amount = _read_amount(answer.value, action.account.currency) if answer and not answer.skipped else None
        if amount is None:  # nothing, zero or above the reader's limit: ask again
            return finish(action_id, failure_code="invalid_amount")
        ReaderAction.objects.filter(pk=action_id, status__in=ReaderAction.OPEN).update(amount=amount)
    elif answer is not None and not answer.skipped and answer.value:
        with transaction.atomic():
            locked = ReaderAction.objects.select_for_update().get(pk=action_id)
            if locked.status not in ReaderAction.OPEN:
                return locked
            _send_receipt(locked, answer.value)
    return finish(action_id, status=ReaderAction.Status.SUCCEEDED)


def _refund_after_check(action: ReaderAction, answer) -> ReaderAction:
    """The merchant confirmed the original card on the reader: refund through the Refunds API (never more
    than what is left: refund_create checks); otherwise nothing is refunded."""
    if answer is None or answer.skipped or answer.value != "present":
        return finish(action.pk, failure_code="card_not_present")
    try:
        refund = payment_refund(actor=action.created_by, account=action.account, payment_id=action.payment_id,
                                amount=action.amount, comment=action.note)
    except DomainError:
        return finish(action.pk, failure_code="refund_refused")
    if refund.status == "failed":
        return finish(action.pk, failure_code=refund.failure_code or "refund_refused")
    return finish(action.pk, status=ReaderAction.Status.SUCCEEDED)


def _send_receipt(action: ReaderAction, address: str) -> None:
    from retail.services.customers import clean_single_email

    try:
        address = clean_single_email(address)
    except DomainError:
        return
    action.receipt_email = address
    action.save(update_fields=["receipt_email"])
    if action.kind == ReaderAction.Kind.REFUND_RECEIPT:  # the payment keeps its own receipt's address
        payment = Payment.objects.select_related("account").get(pk=action.payment_id)
        email_queue(to=[address], account=payment.account, subject=_("Your refund receipt from %(shop)s") % {
            "shop": payment.account.name}, text=_("Refund of %(amount)s by %(shop)s to your card %(card)s, "
                                                  "for your payment of %(paid)s on %(date)s.") % {
            "amount": format_money(action.amount, payment.currency), "shop": payment.account.name,
            "card": payment.card_label, "paid": format_money(payment.amount, payment.currency),
            "date": formats.date_format(timezone.localtime(payment.created_at), "SHORT_DATE_FORMAT")})
        return
    payment = Payment.objects.select_for_update().get(pk=action.payment_id)
    payment.receipt_email = address
    payment.save(update_fields=["receipt_email"])
    amount = format_money(payment.amount, payment.currency)
    email_queue(to=[address], account=payment.account, subject=_("Your receipt from %(shop)s") % {
        "shop": payment.account.name}, text=_("Card payment of %(amount)s to %(shop)s, %(card)s. Thank you!") % {
        "amount": amount, "shop": payment.account.name, "card": payment.card_label})


def _timeouts(action: ReaderAction, current: TerminalReader, now) -> ReaderAction:
    """Still in progress at the processor: give up a payment the reader stopped answering about."""
    ReaderAction.objects.filter(pk=action.pk).update(checked_at=now)
    Reader.objects.filter(pk=action.reader_id).update(online=current.status == "online",
                                                      last_seen_at=current.last_seen_at)
    if action.kind != ReaderAction.Kind.PAYMENT or action.status != ReaderAction.Status.IN_PROGRESS:
        return ReaderAction.objects.get(pk=action.pk)
    offline = current.last_seen_at is None or now - current.last_seen_at >= OFFLINE_AFTER
    if offline or now - (action.sent_at or action.created_at) >= PAYMENT_TIMEOUT:
        try:
            reader_gateway().cancel_reader_action(current.id)
        except GatewayError:
            pass
        code = "terminal_reader_offline" if offline else "terminal_reader_timeout"
        return finish(action.pk, failure_code=code, cancel_payment=True)
    return ReaderAction.objects.get(pk=action.pk)


def action_check(*, action_id: int, current: TerminalReader | None = None) -> ReaderAction:
    """Ask the processor how the reader is doing with this action (polling, the scheduled check, a
    webhook) and settle what ended. Under the action's lease; a holder elsewhere wins. `current`: the
    reader as a signed webhook event showed it with this action ended (reader_event): no second read."""
    action = ReaderAction.objects.select_related("reader").get(pk=action_id)
    if action.status == ReaderAction.Status.QUEUED:
        return action_send(action_id=action_id, inline=False)  # sending failed earlier: same keys again
    if action.status not in ReaderAction.OPEN:
        return action
    claim = jobs.claim(ReaderAction, action_id, seconds=ACTION_LEASE_SECONDS,
                       due=Q(status=ReaderAction.Status.IN_PROGRESS))
    if claim is None:
        return action
    try:
        now = timezone.now()
        if current is None:
            try:
                current = reader_gateway().retrieve_reader(action.reader.processor_reader_id)
            except ProcessorUnavailable:
                return action
        return _settle_from_reader(action_id, current, now)
    finally:
        claim.release()


def action_check_if_due(*, account, action_id: int, known: ReaderAction | None = None) -> ReaderAction:
    """The sell screen's polling: our row, with its payment and reader, and the processor asked at most
    every CHECK_EVERY. `known`: the row as the caller has just read it (the same), not read again."""
    shown = scoped(ReaderAction, account).select_related("payment", "reader")
    action = known if known is not None else shown.get(pk=action_id)
    now = timezone.now()
    if action.status in ReaderAction.OPEN and (action.checked_at is None or now - action.checked_at >= CHECK_EVERY):
        ReaderAction.objects.filter(pk=action_id).update(checked_at=now)
        action_check(action_id=action_id)
        return shown.get(pk=action_id)  # as the check left it, its payment too
    return action


def _event_about(action: ReaderAction, obj: dict) -> bool | None:
    """Whether a reader event's action (as the signed event shows it) is our open action: True, False
    (an earlier action's, already settled: its payment's event ended it, or it was cancelled), or None
    when the event does not say (checked against the processor, as before)."""
    shown = obj.get("action")
    if not isinstance(shown, dict):
        return None
    if shown.get("type") == "process_payment_intent":
        intent = (shown.get("process_payment_intent") or {}).get("payment_intent")
        intent = intent.get("id") if isinstance(intent, dict) else intent
        if not isinstance(intent, str) or not intent:
            return None
        return (action.kind == ReaderAction.Kind.PAYMENT and action.payment is not None
                and action.payment.processor_payment_id == intent)
    if shown.get("type") == "collect_inputs":
        ours = ((shown.get("collect_inputs") or {}).get("metadata") or {}).get("reader_action")
        if not isinstance(ours, str) or not ours:
            return None
        return action.kind != ReaderAction.Kind.PAYMENT and ours == str(action.pk)
    return None


def reader_event(obj: dict, *, processor: str, payee: str) -> tuple[str, int | None]:
    """terminal.reader.action_succeeded / action_failed (payments.event_handlers): the reader ended an
    action. About our open action: settled from the event's reader (signed, and an ended action does not
    change again), without reading the reader back from the processor; about an earlier action (the
    payment's own event ended it already, follow_payment): nothing to do; not saying: checked."""
    action = ReaderAction.objects.select_related("reader", "payment").filter(
        reader__processor=processor, reader__processor_reader_id=obj["id"], status__in=ReaderAction.OPEN).first()
    if action is None:
        return "no open action", None
    about = _event_about(action, obj)
    if about is False:
        return "earlier reader action", None
    current = None
    if about:
        current = gateway_objects.reader(obj)
        if current.action is None or current.action.status == ReaderActionStatus.IN_PROGRESS:
            current = None
    settled = action_check(action_id=action.pk, current=current)
    return f"reader action {settled.status}", settled.payment_id


def follow_payment(payment: Payment) -> None:
    """A payment event settled a card_present payment (payments.event_handlers.PAYMENT_FOLLOWERS): the
    reader's action that took it ends now, in the same task, so the sell screen sees the result without
    waiting for the reader's own event (which then finds nothing open about it and does nothing). No
    processor call: the payment was just read. Idempotent: `finish` ends an open action only."""
    if payment.method != Payment.Method.CARD_PRESENT or payment.status not in (Payment.Status.SUCCEEDED,
                                                                               Payment.Status.FAILED):
        return
    open_action = ReaderAction.objects.filter(payment=payment, kind=ReaderAction.Kind.PAYMENT,
                                              status__in=ReaderAction.OPEN)
    with transaction.atomic():
        # Lock order: the reader, then its action (as `finish`); the reader is found through its open
        # action by the locking statement itself (one statement fewer for every payment a reader takes).
        reader = Reader.objects.select_for_update().filter(pk__in=open_action.values("reader_id")).first()
        if reader is None:
            return  # none open (the reader's own event, or the screen's check, ended it first)
        action = open_action.select_for_update(of=("self",)).select_related("payment").filter(reader=reader).first()
        if action is None:
            return  # ended while we waited for the reader's lock
        if payment.status == Payment.Status.SUCCEEDED:
            follow = _end_locked(action, reader, status=ReaderAction.Status.SUCCEEDED)
        else:
            follow = _end_locked(action, reader, failure_code=payment.failure_code)
    _after_end(action, follow)


def actions_due(now=None) -> list[int]:
    """Open actions nobody has asked the processor about lately (the scheduled check's outbox)."""
    now = now or timezone.now()
    quiet = now - datetime.timedelta(seconds=20)
    return list(ReaderAction.objects.filter(jobs.unclaimed(now), status__in=ReaderAction.OPEN,
                                            created_at__lt=quiet)
                .filter(Q(checked_at__isnull=True) | Q(checked_at__lt=quiet))
                .order_by("created_at").values_list("pk", flat=True)[:jobs.SWEEP_LIMIT])


def reader_refresh(*, account, reader_id: int) -> Reader:
    """Online/offline and last seen, as the processor says now (the list's figures)."""
    reader = scoped(Reader, account).get(pk=reader_id)
    try:
        current = reader_gateway().retrieve_reader(reader.processor_reader_id)
    except GatewayError:
        return reader
    Reader.objects.filter(pk=reader.pk).update(online=current.status == "online", last_seen_at=current.last_seen_at)
    reader.online, reader.last_seen_at = current.status == "online", current.last_seen_at
    return reader


def open_action_of(reader: Reader) -> ReaderAction | None:
    """The reader's open action, without locking (pages)."""
    return ReaderAction.objects.filter(reader=reader, status__in=ReaderAction.OPEN).select_related("payment").first()


def reader_follow(*, account, reader_id: int) -> ReaderAction | None:
    """Check the reader's open action now (the simulated reader's screen after the person did something):
    settle what ended and send the next step, as the webhook's task would."""
    reader = scoped(Reader, account).get(pk=reader_id)
    action = open_action_of(reader)
    if action is None:
        return None
    checked = action_check(action_id=action.pk)
    return open_action_of(reader) or checked  # the loop's next step, if it started
