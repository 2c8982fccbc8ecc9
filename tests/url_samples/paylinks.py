"""Samples for pay links. The walk's account has online payments off: sending refuses with a message; the
pay pages answer for a link of the account (another account's link ids answer 404 on the staff pages)."""

from paylinks.links import link_token
from paylinks.models import PayLink
from tests.retail.report_factories import customer, make_shop, open_register, product, sell


def _link(account) -> PayLink:
    shop = make_shop(account, cheque=False)
    open_register(shop)
    item = product(shop, sku=f"PL-{shop.register.pk}", name="Bougie", price=2450, rate_bp=2000)
    sale = sell(shop, [(item, 1)], payments=[], buyer=customer(shop, email="pl@example.test"), on_account=True)
    return PayLink.objects.create(account=account, sale=sale, key=f"sample-{sale.pk}", amount=sale.balance_due,
                                  currency=sale.currency, sent_to="pl@example.test", language="fr")


def _link_id(account):
    return {"link_id": _link(account).pk}


def _sale(account):
    return {"sale_id": _link(account).sale_id}


def _token(account):
    return {"token": link_token(_link(account))}


def _token_and_payment(account):
    from payments.models import Payment

    link = _link(account)
    payment = Payment.objects.create(account=account, amount=link.amount, currency=link.currency,
                                     method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.ONLINE,
                                     purpose=Payment.Purpose.SALE, sale=link.sale, processor="sandbox",
                                     status=Payment.Status.FAILED)
    return {"token": link_token(link), "payment_id": payment.pk}


SAMPLES = {
    "paylinks:detail": _link_id,
    "paylinks:deactivate": _link_id,
    "paylinks:send": _sale,
    "paylinks:pay": _token,
    "paylinks:invoice": _token,
    "paylinks:pay_start": _token,
    "paylinks:pay_finish": _token_and_payment,
    "paylinks:paid": _token,
}
