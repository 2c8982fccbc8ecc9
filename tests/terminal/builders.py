"""Card readers for the tests: registered through the service with the sandbox's simulated code."""

from payments.sandbox import terminal as device
from terminal import services
from tests.factories import owner_of

SIMULATED = "simulated-wpe"


def reader_for(shop, label="Caisse 1"):
    owner = owner_of(shop.account)
    return services.reader_register(actor=owner, account=shop.account, outlet_id=shop.register.outlet_id,
                                    register_id=shop.register.pk, registration_code=SIMULATED, label=label)


def present(reader, number="4242424242424242"):
    return device.reader_present_card(reader_id=reader.processor_reader_id, number=number)


def answer(reader, value):
    return device.reader_enter_inputs(reader_id=reader.processor_reader_id, values=[value])


def reader_of(account, label="Walk reader"):
    """A reader on a new register of the account (the URL walk's samples)."""
    from tests.factories import RegisterFactory

    register = RegisterFactory(outlet__account=account)
    return services.reader_register(actor=owner_of(account), account=account, outlet_id=register.outlet_id,
                                    register_id=register.pk, registration_code=SIMULATED, label=label)


def finished_sale_action(account):
    """A reader's card payment of a completed sale, finished: cancelling or polling it changes nothing."""
    from terminal.models import ReaderAction
    from tests.payments.builders import completed_sale, payment

    reader = reader_of(account)
    return ReaderAction.objects.create(account=account, reader=reader, kind=ReaderAction.Kind.PAYMENT,
                                       payment=payment(account, sale=completed_sale(account)),
                                       status=ReaderAction.Status.SUCCEEDED)


def paying_reader(account):
    """A reader in the middle of a payment: removing it or changing its mode is refused, nothing changes."""
    from terminal.models import ReaderAction

    reader = reader_of(account)
    ReaderAction.objects.create(account=account, reader=reader, kind=ReaderAction.Kind.PAYMENT,
                                status=ReaderAction.Status.IN_PROGRESS)
    return reader
