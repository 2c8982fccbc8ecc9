"""A standalone payment (taken on a card reader without a sale) becomes an itemised sale's card payment."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.services import audit_record
from accounts.tenancy import scoped
from payments import settlement
from payments.models import Payment
from payments.services.attempts import _payment_state
from posbackoffice.errors import DomainError
from posbackoffice.money import format_money


@transaction.atomic
def payment_attach_to_sale(*, actor, account, payment_id: int, sale_id: int) -> Payment:
    """Beyond seed 002: a standalone payment (taken on a card reader without a sale) becomes the card
    payment of an itemised sale in progress, recorded on it as the card payment it is; the sale then
    completes as every paid sale does (stock moves, receipt). The payment must not be more than what is
    left to pay (the difference is named: add items); less leaves the rest to pay another way. Locks: the
    payment, then the sale."""
    from retail.models import Sale

    payment = scoped(Payment, account).select_for_update().filter(pk=payment_id).first()
    if payment is None:
        raise DomainError(_("This payment does not exist."))
    if (payment.mode != Payment.Mode.STANDALONE or payment.purpose != Payment.Purpose.NONE
            or payment.status != Payment.Status.SUCCEEDED):
        raise DomainError(_("Only a standalone payment, not refunded and not in a sale yet, can become a sale's."))
    sale = scoped(Sale, account).select_for_update().filter(pk=sale_id, status=Sale.Status.OPEN).first()
    if sale is None:
        raise DomainError(_("This sale cannot take a payment now."))
    if payment.amount > sale.balance_due:
        raise DomainError(_("The payment (%(paid)s) is more than what is left to pay (%(due)s): add items for "
                            "%(difference)s more.") % {
            "paid": format_money(payment.amount, payment.currency),
            "due": format_money(max(sale.balance_due, 0), sale.currency),
            "difference": format_money(payment.amount - max(sale.balance_due, 0), sale.currency)})
    before = _payment_state(payment) | {"purpose": payment.purpose, "sale": None}
    payment.purpose, payment.sale = Payment.Purpose.SALE, sale
    payment.customer_id = payment.customer_id or sale.customer_id
    # The reader took it on its own: whoever attaches it records it on the sale.
    payment.created_by = payment.created_by or (actor if getattr(actor, "pk", None) else None)
    payment.save(update_fields=["purpose", "sale", "customer", "created_by"])
    settlement.pay_sale(payment)
    audit_record(account=account, actor=actor, action="payment.attached_to_sale", target=payment, before=before,
                 after=_payment_state(payment) | {"purpose": payment.purpose, "sale": sale.pk})
    return payment
