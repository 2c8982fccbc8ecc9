"""Card readers (Setup › Payments › Terminals) and what staff ask of them: `reader_register` (a
registration code, to an outlet and a register), `reader_rename`, `reader_remove`, `reader_set_mode`
(integrated / standalone), `sale_payment_start` (the sell screen's card payment on the register's reader)
and `action_cancel` (its Cancel). What the readers then do is followed by the driver (terminal.driver),
sent first by the request and, should that fail, by the task this module queues (terminal.tasks)."""

import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Outlet, Register
from accounts.services import audit_record, snapshot
from accounts.tenancy import scoped
from payments.gateway.errors import GatewayError, InvalidRequest, ProcessorUnavailable
from payments.messages import failure_message
from payments.models import Payment
from payments.services.charges import payment_create
from payments.settings_services import payment_settings_of
from posbackoffice import jobs
from posbackoffice.errors import DomainError
from posbackoffice.money import format_money
from terminal import driver, tasks
from terminal.driver import READER_LIMIT, open_action, queue_action, reader_gateway
from terminal.models import Reader, ReaderAction, TerminalLocation


def _queue(reader: Reader, kind: str, **kwargs) -> ReaderAction:
    action = queue_action(reader, kind, **kwargs)
    jobs.enqueue(tasks.send_reader_action, action.pk)  # on commit; the request usually sends it first
    return action


def _reader_state(reader: Reader) -> dict:
    return snapshot(reader, ("label", "mode", "register_id", "outlet_id", "removed_at"))


def _location(account, outlet: Outlet) -> TerminalLocation:
    """The outlet's Terminal location, created at the processor the first time (keyed by the outlet)."""
    found = scoped(TerminalLocation, account).filter(outlet=outlet).first()
    if found is not None:
        return found
    gateway = reader_gateway()
    address = {"line1": (outlet.address or outlet.name).splitlines()[0][:200], "city": outlet.name[:100],
               "country": account.country}
    created = gateway.create_terminal_location(
        display_name=outlet.name[:100], address=address, idempotency_key=f"terminal-location-{outlet.pk}",
        metadata={"account": str(account.pk), "outlet": str(outlet.pk)})
    try:
        with transaction.atomic():
            return TerminalLocation.objects.create(account=account, outlet=outlet, processor=gateway.name,
                                                   processor_location_id=created.id)
    except IntegrityError:
        return scoped(TerminalLocation, account).get(outlet=outlet)


def _clean_label(label: str) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise DomainError(_("Give the reader a name."))
    if len(label) > 60:
        raise DomainError(_("A reader's name has at most 60 characters."))
    return label


def reader_register(*, actor, account, outlet_id: int, register_id: int | None, registration_code: str,
                    label: str) -> Reader:
    """Register the reader showing `registration_code` to an outlet (and a register, whose sell screen
    then uses it). An unknown or used code, another account's outlet or register, or a register that
    already has a reader is refused and nothing is saved."""
    label = _clean_label(label)
    code = (registration_code or "").strip()
    if not code or len(code) > 100:
        raise DomainError(_("Type the registration code the reader shows."))
    outlet = scoped(Outlet, account).filter(pk=outlet_id).first()
    if outlet is None:
        raise DomainError(_("Choose an outlet from the list."))
    register = None
    if register_id is not None:
        register = scoped(Register, account).filter(pk=register_id, outlet=outlet).first()
        if register is None:
            raise DomainError(_("Choose a register of this outlet."))
        if scoped(Reader, account).filter(register=register, removed_at__isnull=True).exists():
            raise DomainError(_("This register already has a card reader."))
    location = _location(account, outlet)
    gateway = reader_gateway()
    try:
        registered = gateway.register_reader(
            registration_code=code, label=label, location_id=location.processor_location_id,
            idempotency_key=f"reader-register-{uuid.uuid4().hex}", metadata={"account": str(account.pk)})
    except InvalidRequest:
        raise DomainError(_("The card processor does not know this registration code, or it was already used. "
                            "Check the code shown on the reader.")) from None
    except ProcessorUnavailable:
        raise DomainError(failure_message("processor_unavailable")) from None
    with transaction.atomic():
        if Reader.objects.filter(processor=gateway.name, processor_reader_id=registered.id).exists():
            raise DomainError(_("This reader is already registered."))
        try:
            with transaction.atomic():
                reader = Reader.objects.create(
                    account=account, location=location, outlet=outlet, register=register, label=label,
                    serial_number=registered.serial_number, device_type=registered.device_type,
                    processor=gateway.name, processor_reader_id=registered.id, online=registered.status == "online",
                    last_seen_at=registered.last_seen_at, created_by=actor)
        except IntegrityError:
            raise DomainError(_("This register already has a card reader.")) from None
        audit_record(account=account, actor=actor, action="reader.registered", target=reader,
                     after=_reader_state(reader))
    return reader


def _lock_reader(account, reader_id: int) -> Reader:
    reader = scoped(Reader, account).select_for_update().filter(pk=reader_id, removed_at__isnull=True).first()
    if reader is None:
        raise DomainError(_("This card reader does not exist."))
    return reader


@transaction.atomic
def reader_rename(*, actor, account, reader_id: int, label: str) -> Reader:
    label = _clean_label(label)
    reader = _lock_reader(account, reader_id)
    before = _reader_state(reader)
    try:
        reader_gateway().update_reader(reader.processor_reader_id, label=label)
    except GatewayError:
        raise DomainError(failure_message("processor_unavailable")) from None
    reader.label = label
    reader.save(update_fields=["label"])
    audit_record(account=account, actor=actor, action="reader.renamed", target=reader, before=before,
                 after=_reader_state(reader))
    return reader


def _refuse_if_paying(reader: Reader) -> ReaderAction | None:
    """The open action, unless it is a payment (then refused: it may yet take money)."""
    action = open_action(reader)
    if action is not None and action.kind == ReaderAction.Kind.PAYMENT:
        raise DomainError(_("A payment is in progress on this reader. Wait for it to finish or cancel it first."))
    return action


def _drop(action: ReaderAction | None, now) -> None:
    """Stop an amount entry or a receipt screen (no money involved)."""
    if action is None:
        return
    if action.status == ReaderAction.Status.IN_PROGRESS:
        try:
            reader_gateway().cancel_reader_action(action.reader.processor_reader_id)
        except GatewayError:
            pass  # nothing in progress any more, or the reader is gone: either way we stop following it
    action.status, action.finished_at, action.failure_code = ReaderAction.Status.CANCELED, now, "canceled"
    action.save(update_fields=["status", "finished_at", "failure_code"])


@transaction.atomic
def reader_remove(*, actor, account, reader_id: int) -> Reader:
    reader = _lock_reader(account, reader_id)
    before = _reader_state(reader)
    now = timezone.now()
    _drop(_refuse_if_paying(reader), now)
    try:
        reader_gateway().delete_reader(reader.processor_reader_id)
    except InvalidRequest:
        pass  # already gone at the processor
    except GatewayError:
        raise DomainError(failure_message("processor_unavailable")) from None
    reader.removed_at, reader.register = now, None
    reader.save(update_fields=["removed_at", "register"])
    audit_record(account=account, actor=actor, action="reader.removed", target=reader, before=before,
                 after=_reader_state(reader))
    return reader


def reader_set_mode(*, actor, account, reader_id: int, mode: str) -> Reader:
    """Integrated (the sell screen sends payments) or standalone (the reader asks for amounts). Standalone
    needs the account's standalone mode on (Setup › Payments); refused while the reader is taking a
    payment. Going standalone starts the amount entry on the reader."""
    if mode not in Reader.Mode.values:
        raise DomainError(_("Choose integrated or standalone mode."))
    with transaction.atomic():
        reader = _lock_reader(account, reader_id)
        if mode == Reader.Mode.STANDALONE and not payment_settings_of(account).standalone_enabled:
            raise DomainError(_("Standalone mode is off for this account: turn it on in Setup › Payments first."))
        before = _reader_state(reader)
        if reader.mode == mode:
            return reader
        _drop(_refuse_if_paying(reader), timezone.now())
        reader.mode = mode
        reader.save(update_fields=["mode"])
        audit_record(account=account, actor=actor, action="reader.mode_changed", target=reader, before=before,
                     after=_reader_state(reader))
        action = _queue(reader, ReaderAction.Kind.AMOUNT, actor=actor) if mode == Reader.Mode.STANDALONE else None
    if action is not None:
        driver.action_send(action_id=action.pk)
    return reader


def readers_back_to_integrated(*, account) -> None:
    """Standalone mode is being turned off for the account (payments.settings_services.STANDALONE_OFF_CHECKS,
    inside its transaction): refused while a reader takes a standalone payment; otherwise every reader
    goes back to integrated mode."""
    now = timezone.now()
    for reader in scoped(Reader, account).select_for_update().filter(mode=Reader.Mode.STANDALONE,
                                                                    removed_at__isnull=True).order_by("pk"):
        _drop(_refuse_if_paying(reader), now)
        reader.mode = Reader.Mode.INTEGRATED
        reader.save(update_fields=["mode"])


def sale_payment_start(*, actor, account, sale_id: int, register_id: int) -> ReaderAction:
    """Pay what is left of the sale on the register's card reader: our Payment (card present, for the
    sale) and the reader's action, committed before anything is sent."""
    with transaction.atomic():
        reader = scoped(Reader, account).select_for_update().filter(register_id=register_id,
                                                                    removed_at__isnull=True).first()
        if reader is None:
            raise DomainError(_("This register has no card reader."))
        if reader.mode == Reader.Mode.STANDALONE:
            raise DomainError(_("The card reader of this register is in standalone mode: put it back in "
                                "integrated mode (its menu, or Setup › Payments › Terminals) to take the "
                                "payment here."))
        if open_action(reader) is not None:
            raise DomainError(failure_message("terminal_reader_busy"))
        from retail.models import Sale

        sale = scoped(Sale, account).filter(pk=sale_id).first()
        if sale is None:
            raise DomainError(_("There is no sale in progress on this register."))
        if sale.balance_due > READER_LIMIT:
            raise DomainError(_("The card reader takes at most %(amount)s in one payment.")
                              % {"amount": format_money(READER_LIMIT, sale.currency)})
        payment = payment_create(actor=actor, account=account, amount=sale.balance_due, currency=sale.currency,
                                 method=Payment.Method.CARD_PRESENT, mode=Payment.Mode.INTEGRATED, sale_id=sale.pk,
                                 description=_("Sale on %(register)s") % {"register": sale.register.name})
        return _queue(reader, ReaderAction.Kind.PAYMENT, actor=actor, payment=payment)


def action_cancel(*, actor, account, action_id: int) -> ReaderAction:
    """The cashier's Cancel: the reader stops asking for the card and the payment fails, nothing taken.
    Once the card was presented, the payment ends as it ends."""
    action = scoped(ReaderAction, account).select_related("reader", "payment").filter(pk=action_id).first()
    if action is None:
        raise DomainError(_("This card payment does not exist."))
    if action.status not in ReaderAction.OPEN:
        return action
    try:
        reader_gateway().cancel_reader_action(action.reader.processor_reader_id)
    except InvalidRequest:
        return driver.action_check(action_id=action_id)  # nothing in progress on the reader: it ended; record how
    except ProcessorUnavailable:
        raise DomainError(failure_message("processor_unavailable")) from None
    audit_record(account=account, actor=actor, action="reader.action_canceled", target=action.reader,
                 after={"action": action.pk, "payment": action.payment_id})
    return driver.finish(action_id, failure_code="canceled", cancel_payment=True, status=ReaderAction.Status.CANCELED)


def standalone_refund_start(*, actor, account, payment_id: int, amount: int, comment: str = "") -> ReaderAction:
    """Finance › Payments › a standalone payment › Refund: the reader that took it asks for the original
    card (the merchant confirms it there); the refund is sent once confirmed (terminal.driver). Never more
    than what is left to refund; refused while the reader takes a payment."""
    from payments.selectors import refundable_now

    with transaction.atomic():
        payment = scoped(Payment, account).filter(pk=payment_id, mode=Payment.Mode.STANDALONE,
                                                  method=Payment.Method.CARD_PRESENT).first()
        if payment is None:
            raise DomainError(_("This payment does not exist."))
        if amount <= 0:
            raise DomainError(_("The amount must be more than zero."))
        remaining = refundable_now(payment)
        if amount > remaining:
            raise DomainError(_("You can refund at most %(amount)s.") % {"amount": format_money(remaining,
                                                                                               payment.currency)})
        took = scoped(ReaderAction, account).filter(payment=payment, kind=ReaderAction.Kind.PAYMENT) \
            .values_list("reader_id", flat=True).first()
        reader = scoped(Reader, account).select_for_update().filter(pk=took, removed_at__isnull=True).first()
        if reader is None:
            raise DomainError(_("The card reader that took this payment is no longer registered."))
        _drop(_refuse_if_paying(reader), timezone.now())
        action = _queue(reader, ReaderAction.Kind.REFUND, actor=actor, payment=payment, amount=amount)
        ReaderAction.objects.filter(pk=action.pk).update(note=comment.strip()[:300])
        audit_record(account=account, actor=actor, action="reader.refund_requested", target=reader,
                     after={"payment": payment.pk, "amount": amount})
    driver.action_send(action_id=action.pk)
    return action
