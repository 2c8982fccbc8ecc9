from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Register
from accounts.services import audit_record, snapshot
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError
from retail.models import PaymentType, RegisterClosureLine, RegisterSession, Sale, SalePayment

SESSION_FIELDS = ("status", "opening_float", "opened_at", "closed_at")


def open_session_of(register) -> RegisterSession | None:
    return RegisterSession.objects.filter(register=register, status=RegisterSession.Status.OPEN).first()


@transaction.atomic
def register_open(*, actor, account, register_id: int, opening_float: int, now=None) -> RegisterSession:
    now = now or timezone.now()
    register = scoped(Register, account).select_for_update().get(pk=register_id)
    if not register.is_active:
        raise DomainError(_("This register is switched off."))
    if opening_float < 0:
        raise DomainError(_("The opening float cannot be negative."))
    if open_session_of(register) is not None:
        raise DomainError(_("%(register)s is already open.") % {"register": register.name})
    session = RegisterSession.objects.create(account=account, register=register, opening_float=opening_float,
                                             opened_by=actor, opened_at=now)
    audit_record(account=account, actor=actor, action="register.opened", target=session,
                 after=snapshot(session, SESSION_FIELDS), at=now)
    return session


@transaction.atomic
def register_open_for_online_payment(*, account, register_id: int, now=None) -> RegisterSession:
    """A customer paid online (a pay link) while the sale's register was closed: the payment opens it, with
    a zero float and no staff member (shown so in the Activity log); staff close it as usual. The register
    row is locked, so two payments at once open it once."""
    now = now or timezone.now()
    register = scoped(Register, account).select_for_update().get(pk=register_id)
    session = open_session_of(register)
    if session is not None:
        return session
    session = RegisterSession.objects.create(account=account, register=register, opening_float=0,
                                             opened_by=None, opened_at=now)
    audit_record(account=account, actor=None, action="register.opened_by_online_payment", target=session,
                 after=snapshot(session, SESSION_FIELDS), at=now)
    return session


def expected_amounts(session: RegisterSession) -> dict[int, int]:
    """payment type id → what the drawer or the processor should show for this session."""
    totals = dict(
        SalePayment.objects.filter(session=session).values("payment_type").annotate(total=Sum("amount"))
        .values_list("payment_type", "total")
    )
    cash = scoped(PaymentType, session.account_id).get(kind=PaymentType.Kind.CASH)
    totals[cash.pk] = totals.get(cash.pk, 0) + session.opening_float
    return totals


@transaction.atomic
def register_close(*, actor, account, session_id: int, counted: dict[int, int], note: str = "",
                   now=None) -> RegisterSession:
    """Close the session with what was counted per payment type (a type left out counts as expected).
    Expected and counted amounts are negative where the session paid out more than it took in (a day of
    refunds); each line keeps the difference, counted minus expected."""
    now = now or timezone.now()
    session = scoped(RegisterSession, account).select_for_update().select_related("register").get(pk=session_id)
    if session.status != RegisterSession.Status.OPEN:
        raise DomainError(_("This register is already closed."))
    in_progress = scoped(Sale, account).filter(register=session.register, status=Sale.Status.OPEN,
                                      lines__isnull=False).exists()
    if in_progress:
        raise DomainError(_("A sale is in progress on this register: complete, park or discard it before closing."))
    expected = expected_amounts(session)
    types = {pt.pk: pt for pt in scoped(PaymentType, account).filter(pk__in=set(expected) | set(counted))}
    lines = []
    for type_id in sorted(types, key=lambda pk: (types[pk].position, types[pk].name)):
        exp = expected.get(type_id, 0)
        cnt = counted.get(type_id, exp)
        if cnt < 0 and exp >= 0:
            # Below zero is real only when the session paid out more in this type than it took in
            # (refunds beyond the takings); otherwise a minus sign is a typing slip.
            raise DomainError(_("%(payment_type)s cannot be counted below zero: only a payment type that paid "
                                "out more than it took in during this session can.")
                              % {"payment_type": types[type_id].name})
        lines.append(RegisterClosureLine(account=account, session=session, payment_type_id=type_id,
                                         expected=exp, counted=cnt, difference=cnt - exp))
    RegisterClosureLine.objects.bulk_create(lines)
    before = snapshot(session, SESSION_FIELDS)
    session.status = RegisterSession.Status.CLOSED
    session.closed_at = now
    session.closed_by = actor
    session.closing_note = note.strip()
    session.save(update_fields=["status", "closed_at", "closed_by", "closing_note"])
    audit_record(account=account, actor=actor, action="register.closed", target=session, before=before,
                 after={**snapshot(session, SESSION_FIELDS),
                        "lines": {str(line.payment_type_id): [line.expected, line.counted] for line in lines}},
                 at=now)
    return session
