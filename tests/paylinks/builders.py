"""Builders for the pay links tests: a shop with online payments on and an on-account sale, the sandbox's
payment method for a test card, and a snapshot of what a refused action must leave untouched."""

from accounts.models import AuditEvent, OutgoingEmail
from paylinks import links
from paylinks.models import PayLink, PayLinkEmail
from paylinks.services import pay_link_send, paylink_settings_update
from payments.models import Payment
from retail.models import Customer, Sale, SalePayment
from tests.retail.report_factories import customer, make_shop, open_register, product, sell


def online_shop(account, *, enabled: bool = True):
    """A new outlet with its register open, and online payments switched on."""
    shop = make_shop(account, cheque=False)
    open_register(shop)
    if enabled:
        paylink_settings_update(actor=shop.actor, account=account, online_payments_enabled=True, reminder_days=None)
    return shop


def on_account_sale(shop, *, price: int = 2450, email: str = "camille@example.test", quantity: int = 1,
                    paid: int = 0, language: str = "") -> Sale:
    """A sale of `quantity` candles left on Camille's account (after `paid` in cash); Camille reads
    `language` (empty: the shop's)."""
    sku = f"CANDLE-{price}-{Sale.objects.count()}"
    item = product(shop, sku=sku, name="Bougie parfumée", price=price, rate_bp=2000)
    buyer = customer(shop, email=email, language=language)
    payments = [(shop.cash, paid)] if paid else []
    return sell(shop, [(item, quantity)], payments=payments, buyer=buyer, on_account=True)


def sent_link(shop, sale, *, email: str = "camille@example.test", language: str = "fr") -> PayLink:
    return pay_link_send(actor=shop.actor, account=shop.account, sale_id=sale.pk, email=email, language=language)


def token(link: PayLink) -> str:
    return links.link_token(link)


def card(number: str = "4242424242424242") -> str:
    """What the browser's card entry hands us for a test card: the sandbox's payment method id."""
    from payments.sandbox import services as processor

    return processor.payment_method_create(number=number, expiry="12/40", cvc="123")["id"]


def state(account) -> dict:
    """Everything paying or sending a link could change."""
    return {
        "payments": list(Payment.objects.filter(account=account).order_by("pk").values_list("pk", "status", "amount")),
        "links": list(PayLink.objects.filter(account=account).order_by("pk").values_list("pk", "status", "amount")),
        "link_emails": PayLinkEmail.objects.filter(account=account).count(),
        "emails": OutgoingEmail.objects.filter(account=account).count(),
        "sales": list(Sale.objects.filter(account=account).order_by("pk").values_list("pk", "status", "paid_total")),
        "sale_payments": SalePayment.objects.filter(account=account).count(),
        "balances": list(Customer.objects.filter(account=account).order_by("pk").values_list("pk", "balance")),
        "audit": AuditEvent.objects.filter(account=account).count(),
    }
