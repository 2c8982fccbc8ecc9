"""Demo data of card payments, loaded by `manage.py demo_data` after the POS core's, so that Finance ›
Payments shows a newcomer something: just after the demo's weeks of trading, customers who owe money on
account pay part of it by card over the phone (a card-not-present payment typed into the sandbox's card
entry, through payment_create and payment_charge, which record it on the sale as the later payment of a
balance does); one card is declined; then two payments are refunded in full and one in part, as the
refund form of Finance › Payments does (payment_refund).

Only with the sandbox processor (the demo types test cards); skipped when the account has payments, so
loading the demo again adds nothing."""

from dataclasses import dataclass

from accounts import permissions as perms
from accounts.models import Membership
from accounts.tenancy import scoped
from payments.gateway import MERCHANT, get_gateway
from payments.models import Payment
from payments.sandbox import services as sandbox
from payments.services.charges import payment_charge, payment_create
from payments.services.refunds import payment_refund
from retail.models import Sale

VISA, MASTERCARD, DECLINED = "4242424242424242", "5555555555554444", "4000000000000002"
CARD_EXPIRY = "12/34"


@dataclass(frozen=True)
class Instalment:
    card: str
    refund: str = ""  # "all", "part" or nothing
    comment: str = ""


# One after the other, each on the next sale owed (round the list of sales again when it is short).
PLAN = (
    Instalment(VISA),
    Instalment(MASTERCARD, refund="all", comment="Réglé deux fois : le client a aussi payé par chèque"),
    Instalment(DECLINED),
    Instalment(VISA, refund="part", comment="Geste commercial sur l’article abîmé"),
    Instalment(MASTERCARD, refund="all", comment="Erreur de montant, nouveau paiement demandé au client"),
    Instalment(VISA),
)


def _instalment(balance_due: int) -> int:
    """A quarter of what is owed, in whole euros (a euro at least)."""
    return max(100, balance_due // 4 // 100 * 100)


def load(account) -> None:
    if get_gateway(MERCHANT).name != "sandbox" or scoped(Payment, account).exists():
        return
    owner = scoped(Membership, account).get(role__preset=perms.OWNER).user
    owed = list(scoped(Sale, account).filter(status=Sale.Status.ON_ACCOUNT).order_by("completed_at", "pk"))
    if not owed:
        return
    for number, instalment in enumerate(PLAN):
        sale = Sale.objects.get(pk=owed[number % len(owed)].pk)
        if sale.status != Sale.Status.ON_ACCOUNT:
            continue  # paid off by an earlier instalment
        # What the browser's card-entry module does: the card goes to the processor, we get its id.
        method = sandbox.payment_method_create(number=instalment.card, expiry=CARD_EXPIRY, cvc="123")
        payment = payment_create(
            actor=owner, account=account, amount=_instalment(sale.balance_due), currency=sale.currency,
            method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.INTEGRATED, sale_id=sale.pk,
            payment_method_id=method["id"], description=f"Règlement du compte client, ticket {sale.receipt}")
        payment = payment_charge(payment_id=payment.pk)
        if instalment.refund and payment.status == Payment.Status.SUCCEEDED:
            amount = payment.amount if instalment.refund == "all" else payment.amount // 2
            payment_refund(actor=owner, account=account, payment_id=payment.pk, amount=amount,
                           comment=instalment.comment)
