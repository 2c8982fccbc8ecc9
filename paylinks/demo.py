"""Demo data of pay links, loaded by `manage.py demo_data` after the payments' demo: the demo shop has online
payments on, and Finance › Payment links shows a link in each tab — one still active, one paid by the
customer on the pay page (a card typed into the sandbox's card entry, then the pay page's own services),
one deactivated by the owner — each sent with its receipt e-mail (rendered by the worker, then listed in the
development mail pages). Only with the sandbox processor; skipped when the account has links."""

from accounts import permissions as perms
from accounts.models import Membership
from accounts.tenancy import scoped
from paylinks import services
from paylinks.availability import unavailable_reason
from paylinks.models import PayLink
from payments.gateway import MERCHANT, get_gateway
from payments.sandbox import services as sandbox
from payments.services.charges import payment_charge
from posbackoffice.errors import DomainError
from retail.models import RegisterSession, Sale
from retail.services.registers import register_close

# Per sale owed: its links, one after the other ("deactivated, active": deactivated by the owner, then sent
# again). Two sales are enough for the three tabs, which the small demo has.
PLAN = (("paid",), ("deactivated", "active"), ("active",))


def _owed_sales(account) -> list[Sale]:
    """On-account sales a link can ask for: a customer with one address, a balance within the bounds; those
    the payments' demo did not pay part of by card first."""
    low, high = services.amount_bounds(account.currency)
    sales = (scoped(Sale, account).filter(status=Sale.Status.ON_ACCOUNT, customer__email__contains="@")
             .select_related("customer").order_by("-completed_at", "-pk"))
    owed = [sale for sale in sales[:50] if low <= sale.balance_due <= high]
    owed.sort(key=lambda sale: sale.processor_payments.exists())  # stable: newest first within each group
    return owed[:len(PLAN)]


def load(account) -> None:
    if get_gateway(MERCHANT).name != "sandbox" or scoped(PayLink, account).exists() or unavailable_reason(account):
        return
    owner = scoped(Membership, account).get(role__preset=perms.OWNER).user
    services.paylink_settings_update(actor=owner, account=account, online_payments_enabled=True, reminder_days=None)
    for outcomes, sale in zip(PLAN, _owed_sales(account), strict=False):
        for outcome in outcomes:
            _link(account, owner, sale, outcome)


def _link(account, owner, sale, outcome: str) -> None:
    try:
        link = services.pay_link_send(actor=sale.created_by, account=account, sale_id=sale.pk,
                                      email=sale.customer.email)  # in the customer's language
    except DomainError:
        return  # an address the services refuse: that customer gets no link
    if outcome == "deactivated":
        services.pay_link_deactivate(actor=owner, account=account, link_id=link.pk)
    elif outcome == "paid":
        # What the pay page does: the card goes to the processor, we get its id, then pay the link.
        method = sandbox.payment_method_create(number="4242424242424242", expiry="12/34", cvc="123")
        payment = services.pay_link_start_payment(link_id=link.pk, amount=link.amount,
                                                  payment_method_id=method["id"])
        payment_charge(payment_id=payment.pk)
        # Paid after hours, the payment opened the sale's register with a zero float; staff close it as usual.
        opened = scoped(RegisterSession, account).filter(register_id=sale.register_id, opened_by=None,
                                                          status=RegisterSession.Status.OPEN).first()
        if opened is not None:
            register_close(actor=owner, account=account, session_id=opened.pk, counted={})
