from retail.services.fulfilments import fulfilment_create
from tests.retail.report_factories import (
    close_register,
    customer,
    leave_in_progress,
    make_shop,
    open_register,
    park,
    product,
    sell,
)


def _shop_with_product(account):
    shop = make_shop(account, cheque=False)
    open_register(shop)
    item = product(shop, sku=f"SAMPLE-{shop.register.pk}", name="Sample", price=1000, rate_bp=2000)
    return shop, item


def _completed_sale(account):
    shop, item = _shop_with_product(account)
    return {"sale_id": sell(shop, [(item, 1)]).pk}


def _closed_session(account):
    shop = make_shop(account, cheque=False)
    session = open_register(shop)
    close_register(shop, session, counted={shop.cash.pk: 0})
    return {"session_id": session.pk}


def _line(account):
    shop, item = _shop_with_product(account)
    sale = leave_in_progress(shop, [(item, 1)])
    return {"line_id": sale.lines.get().pk}


def _payment(account):
    shop, item = _shop_with_product(account)
    sale = leave_in_progress(shop, [(item, 2)], cash_taken=500)
    return {"payment_id": sale.payments.get().pk}


def _parked_sale(account):
    shop, item = _shop_with_product(account)
    return {"sale_id": park(shop, [(item, 1)]).pk}


def _fulfilment(account):
    shop, item = _shop_with_product(account)
    buyer = customer(shop, address_line1="3 rue des Lilas", postcode="69001", city="Lyon")
    sale = sell(shop, [(item, 1)], buyer=buyer)
    return {"fulfilment_id": fulfilment_create(actor=shop.actor, account=account, sale_id=sale.pk).pk}


SAMPLES = {
    "retail:sale_detail": _completed_sale,
    "retail:sale_void": _completed_sale,
    "retail:sale_return": _completed_sale,
    "retail:sale_take_payment": _completed_sale,
    "retail:sale_ship": _completed_sale,
    "retail:fulfilment_status": _fulfilment,
    "retail:sell_closure": _closed_session,
    "retail:sell_line": _line,
    "retail:sell_line_remove": _line,
    "retail:sell_payment_remove": _payment,
    "retail:sell_resume": _parked_sale,
}
