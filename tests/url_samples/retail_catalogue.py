from tests.retail.factories import CustomPaymentTypeFactory, ProductFactory


def _product(account):
    return {"product_id": ProductFactory(account=account).pk}


SAMPLES = {
    "retail:product_edit": _product,
    # POSTed empty by the walk: refused as incomplete, nothing changes.
    "retail:product_stock": _product,
    # Sales settings (Setup): a custom payment type, the only kind that can be switched on and off.
    "retail:payment_type_set_active": lambda account: {"payment_type_id": CustomPaymentTypeFactory(account=account).pk},
}
