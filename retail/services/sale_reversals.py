"""Sales after they were completed: voiding one, and returns with their refunds and stock back in (split
from retail.services.sales, whose cart, payment and completion helpers they use)."""

import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError
from retail import sale_extensions
from retail.models import (
    Customer,
    PaymentType,
    Sale,
    SaleLine,
    SalePayment,
    SaleReturn,
    SaleReturnLine,
    StockMove,
)
from retail.pricing import share_of
from retail.services.catalogue import apply_stock_moves
from retail.services.sales import _lock_sale, _open_session, _sale_after


def _local_date(moment: datetime.datetime, account) -> datetime.date:
    import zoneinfo

    return moment.astimezone(zoneinfo.ZoneInfo(account.timezone)).date()


def _refund(*, account, actor, sale: Sale, payment_type: PaymentType, amount: int, session, at) -> SalePayment:
    return SalePayment.objects.create(account=account, sale=sale, payment_type=payment_type, session=session,
                                      amount=-amount, created_by=actor, created_at=at)


def _refundable_type(payment_type: PaymentType) -> None:
    if payment_type.kind not in (PaymentType.Kind.CASH, PaymentType.Kind.CUSTOM):
        raise DomainError(_("Refunds here are for cash and custom payment types; refund card payments from "
                            "Finance › Payments."))


@transaction.atomic
def sale_void(*, actor, account, sale_id: int, reason: str = "", now=None) -> Sale:
    """Cancel a sale of today: stock comes back, money taken is given back by the same types, and
    what was left on account is taken off the customer's balance."""
    sale = _lock_sale(account, sale_id, Sale.Status.COMPLETED, Sale.Status.ON_ACCOUNT)
    now = now or timezone.now()
    if _local_date(sale.completed_at, account) != _local_date(now, account):
        raise DomainError(_("Only sales of today can be voided; use a return instead."))
    if sale.returns.exists():
        raise DomainError(_("Part of this sale was returned; it can no longer be voided."))
    payments = list(sale.payments.select_related("payment_type"))
    if any(p.processor_payment_id for p in payments):
        raise DomainError(_("This sale was paid by card: refund the card payment from Finance › Payments."))
    paid_by_type: dict[int, int] = {}
    types = {}
    for payment in payments:
        paid_by_type[payment.payment_type_id] = paid_by_type.get(payment.payment_type_id, 0) + payment.amount
        types[payment.payment_type_id] = payment.payment_type
    session = _open_session(sale.register)
    if session is None and any(types[t].is_cash and amount > 0 for t, amount in paid_by_type.items()):
        raise DomainError(_("Open the register to give the cash back."))
    lines = list(sale.lines.all())
    apply_stock_moves(account=account, outlet_id=sale.outlet_id, reason=StockMove.Reason.VOID, sale=sale,
                      actor=actor, at=now,
                      moves=[(line.product_id, line.quantity - line.returned_quantity) for line in lines])
    for type_id, amount in sorted(paid_by_type.items()):
        if amount > 0:
            _refund(account=account, actor=actor, sale=sale, payment_type=types[type_id], amount=amount,
                    session=session, at=now)
    before = _sale_after(sale)
    if sale.status == Sale.Status.ON_ACCOUNT and sale.customer_id:
        customer = Customer.objects.select_for_update().get(pk=sale.customer_id)
        customer.balance -= max(0, sale.balance_due)
        customer.save(update_fields=["balance"])
    sale.paid_total = 0
    sale.status, sale.voided_at = Sale.Status.VOIDED, now
    sale.note = (sale.note + ("\n" if sale.note else "") + reason.strip())[:500] if reason.strip() else sale.note
    sale.save(update_fields=["paid_total", "status", "voided_at", "note"])
    audit_record(account=account, actor=actor, action="sale.voided", target=sale, before=before,
                 after={**_sale_after(sale), "reason": reason.strip()}, at=now)
    sale_extensions.sale_changed(account=account, sale=sale, event="voided", actor=actor, at=now)
    return sale


@transaction.atomic
def sale_return(*, actor, account, sale_id: int, quantities: dict[int, int], refund_payment_type_id: int | None,
                reason: str = "", now=None) -> SaleReturn:
    """Take goods back: stock returns, the customer's on-account debt shrinks first, and anything
    already paid beyond what is now due is refunded by a cash or custom payment type."""
    sale = _lock_sale(account, sale_id, Sale.Status.COMPLETED, Sale.Status.ON_ACCOUNT)
    lines = {line.pk: line for line in sale.lines.all()}
    wanted = {line_id: qty for line_id, qty in quantities.items() if qty}
    if not wanted:
        raise DomainError(_("Choose what is being returned."))
    amount = 0
    returned_lines = []
    for line_id, qty in wanted.items():
        line = lines.get(line_id)
        if line is None:
            raise DomainError(_("This line is not part of the sale."))
        if qty < 0 or qty > line.quantity - line.returned_quantity:
            raise DomainError(_("You can return at most %(n)s of “%(name)s”.")
                              % {"n": line.quantity - line.returned_quantity, "name": line.name})
        # The last items returned take what remains of the line, so rounding never leaves cents behind.
        already = share_of(line.line_total, line.returned_quantity, line.quantity)
        line_amount = share_of(line.line_total, line.returned_quantity + qty, line.quantity) - already
        amount += line_amount
        returned_lines.append((line, qty, line_amount))
    previous_due = sale.balance_due
    new_due = previous_due - amount
    refund_amount = max(0, -new_due) - max(0, -previous_due)
    payment_type = None
    if refund_amount > 0:
        if refund_payment_type_id is None:
            raise DomainError(_("Choose how the money is given back."))
        payment_type = scoped(PaymentType, account).get(pk=refund_payment_type_id)
        _refundable_type(payment_type)
    session = _open_session(sale.register)
    if payment_type is not None and payment_type.is_cash and session is None:
        raise DomainError(_("Open the register to give the cash back."))
    before = _sale_after(sale)
    now = now or timezone.now()
    sale_return = SaleReturn.objects.create(account=account, sale=sale, amount=amount, payment_type=payment_type,
                                            reason=reason.strip()[:300], created_by=actor, created_at=now)
    SaleReturnLine.objects.bulk_create(
        SaleReturnLine(account=account, sale_return=sale_return, sale_line=line, quantity=qty, amount=line_amount)
        for line, qty, line_amount in returned_lines
    )
    for line, qty, _amount in returned_lines:
        SaleLine.objects.filter(pk=line.pk).update(returned_quantity=F("returned_quantity") + qty)
        line.returned_quantity += qty
    apply_stock_moves(account=account, outlet_id=sale.outlet_id, reason=StockMove.Reason.RETURN, sale=sale,
                      actor=actor, at=now, moves=[(line.product_id, qty) for line, qty, _amount in returned_lines])
    if refund_amount > 0:
        _refund(account=account, actor=actor, sale=sale, payment_type=payment_type, amount=refund_amount,
                session=session, at=now)
        sale.paid_total -= refund_amount
    debt_reduction = min(max(0, previous_due), amount)
    if debt_reduction and sale.customer_id:
        customer = Customer.objects.select_for_update().get(pk=sale.customer_id)
        customer.balance -= debt_reduction
        customer.save(update_fields=["balance"])
    sale.returned_total += amount
    if all(line.returned_quantity >= line.quantity for line in lines.values()):
        sale.status = Sale.Status.RETURNED
    elif sale.status == Sale.Status.ON_ACCOUNT and sale.balance_due <= 0:
        sale.status = Sale.Status.COMPLETED
    sale.save(update_fields=["returned_total", "paid_total", "status"])
    audit_record(account=account, actor=actor, action="sale.returned", target=sale, before=before,
                 after={**_sale_after(sale), "amount": amount, "refund": refund_amount,
                        "lines": {str(line.pk): qty for line, qty, _amount in returned_lines}}, at=now)
    sale_extensions.sale_changed(account=account, sale=sale, event="returned", actor=actor, at=now)
    return sale_return
