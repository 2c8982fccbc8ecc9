"""Samples for the card readers' pages: a reader registered with the sandbox's simulated code, and a
finished card payment on a reader (so the walk's cancel and polling change nothing)."""

from tests.payments.builders import payment
from tests.terminal.builders import finished_sale_action, paying_reader, reader_of


def _reader(account):
    return {"reader_id": reader_of(account).pk}


def _paying_reader(account):
    return {"reader_id": paying_reader(account).pk}


def _action(account):
    return {"action_id": finished_sale_action(account).pk}


def _payment(account):
    """A card payment: the walk's empty refund form is refused, nothing is sent to a reader."""
    return {"payment_id": payment(account).pk}


SAMPLES = {
    "terminal:standalone_refund": _payment,
    "terminal:attach_standalone": _payment,  # refused: not a standalone payment
    "terminal:reader_rename": _reader,
    "terminal:reader_remove": _paying_reader,  # refused while it takes a payment
    "terminal:reader_mode": _reader,
    "terminal:sell_card_status": _action,
    "terminal:sell_card_cancel": _action,
    "terminal:simulator": _reader,
    "terminal:simulator_heartbeat": _reader,
    "terminal:simulator_card": _reader,
    "terminal:simulator_input": _reader,
    "terminal:simulator_mode": _reader,
}
