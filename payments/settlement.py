"""What happens when a payment settles, by what it pays for (Payment.purpose).

Each purpose has one settlement handler, registered into HANDLERS under the purpose's value by the app
that owns the purpose, in its AppConfig.ready (payments sits below those apps and must not import them):

- "sale": payments itself (it may import retail; retail may not import payments), `pay_sale` below;
- "none" (a standalone terminal payment): payments, a handler with nothing to do;
- "subscription_cycle": subscriptions; "merchant_invoice": billing (their issues).

The handler protocol (SettlementHandler): `succeeded(payment)` once the payment has succeeded, `failed(payment)`
once it has failed (declined, cancelled, never arrived: subscriptions mark a cycle overdue); either may be
None. `succeeded_many(payments)`, optional, does what `succeeded` does for a list of payments in one go
(`payments_settle_many`, a batched job settling many answers in one transaction). `payment_settle` calls
the one that applies exactly once, when the payment leaves "pending", whichever of the processor's
answer, its webhook or the reconciliation settles it; a later answer changes nothing and calls nothing.
It calls it inside its own transaction, with the payment already saved in its new state and locked
(lock order: the payment, then the handler's rows), so:
- what the handler changes commits with the settlement or not at all: a handler that raises rolls the
  settlement back, the payment stays pending and the next answer (webhook, reconciliation) tries again;
- it must not call the processor; side effects (e-mails, tasks) go through `transaction.on_commit`.

A payment whose purpose has no handler is refused when it is created and, should one exist anyway,
`payment_settle` raises `posbackoffice.registry.NotRegistered` before changing anything: nothing settles.
"""

from collections.abc import Callable
from dataclasses import dataclass

from posbackoffice.registry import Registry


@dataclass(frozen=True)
class SettlementHandler:
    succeeded: Callable | None = None  # (payment) -> None
    failed: Callable | None = None  # (payment) -> None
    # Optional, for batched jobs (payments_settle_many): the same as `succeeded` for each payment of the
    # list, in one go; without it `succeeded` is called for each.
    succeeded_many: Callable | None = None  # (payments) -> None


def run(handler: SettlementHandler, *, succeeded: list, failed: list) -> None:
    """Call the handler for payments that have just succeeded and failed (payments.services)."""
    if succeeded and handler.succeeded_many is not None:
        handler.succeeded_many(succeeded)
    elif handler.succeeded is not None:
        for payment in succeeded:
            handler.succeeded(payment)
    if handler.failed is not None:
        for payment in failed:
            handler.failed(payment)


HANDLERS: Registry[SettlementHandler] = Registry("settlement handlers")


def handler_for(purpose: str) -> SettlementHandler:
    """The handler of this purpose; NotRegistered (nothing may settle) when no app registered one."""
    return HANDLERS.get(purpose)


# ---- the handlers payments registers (PaymentsConfig.ready) ----------------------------------------

def pay_sale(payment) -> None:
    """The money is in: record it on the sale (retail's `sale_add_card_payment`: a sale in progress stays
    open, paid, for the cashier to complete; an on-account sale is settled)."""
    from retail.services import sales as sale_services

    sale_services.sale_add_card_payment(actor=payment.created_by, account=payment.account, sale_id=payment.sale_id,
                                        amount=payment.amount, processor_payment_id=payment.pk,
                                        online=payment.mode == payment.Mode.ONLINE)


SALE = SettlementHandler(succeeded=pay_sale)
NOTHING = SettlementHandler()  # "none": the payment is all there is
