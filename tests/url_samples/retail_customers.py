from tests.retail.factories import CustomerFactory, CustomerTypeFactory


def _customer(account):
    return {"customer_id": CustomerFactory(account=account).pk}


def _type_in_use(account):
    """A type one customer has: the walk's empty POSTs are refused (saving needs a name, delete a
    type nobody has), so every role sees the same type."""
    customer_type = CustomerTypeFactory(account=account)
    CustomerFactory(account=account, customer_type=customer_type)
    return {"customer_type_id": customer_type.pk}


SAMPLES = {
    "retail:customer_detail": _customer,
    "retail:customer_edit": _customer,
    "retail:customer_type_update": _type_in_use,
    "retail:customer_type_delete": _type_in_use,
}
