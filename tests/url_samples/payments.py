from tests.payments.builders import completed_sale, payment


def _payment(account):
    """A succeeded payment: the walk's empty refund POST is refused (no amount), nothing changes."""
    return {"payment_id": payment(account).pk}


def _sale_payment(account):
    """A succeeded card payment of a completed sale: finishing it again only reports how it ended."""
    return {"payment_id": payment(account, sale=completed_sale(account)).pk}


SAMPLES = {
    "payments:detail": _payment,
    "payments:refund": _payment,
    "payments_sell:card_finish": _sale_payment,
    "payments_sell:card_check": _sale_payment,
    "payments_sell:card_cancel": _sale_payment,  # refused: it is not waiting for the cardholder
}
