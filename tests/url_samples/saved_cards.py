"""Samples for saved cards. The walk's account has the feature off, so every action refuses (a message,
a redirect or a 422) and nothing changes whoever asks; another account's ids answer 404."""

from saved_cards import invites
from tests.retail.factories import CustomerFactory
from tests.saved_cards.builders import invite_row, setup_row


def _customer(account):
    return {"customer_id": CustomerFactory(account=account).pk}


def _setup(account):
    customer = CustomerFactory(account=account)
    return {"customer_id": customer.pk, "setup_id": setup_row(customer).pk}


def _invite(account):
    customer = CustomerFactory(account=account)
    return {"customer_id": customer.pk, "invite_id": invite_row(customer).pk}


def _token(account):
    return {"token": invites.invite_token(invite_row(CustomerFactory(account=account)))}


def _token_and_setup(account):
    customer = CustomerFactory(account=account)
    invitation = invite_row(customer)
    return {"token": invites.invite_token(invitation), "setup_id": setup_row(customer, invite=invitation).pk}


SAMPLES = {
    "saved_cards:add": _customer,
    "saved_cards:setup_start": _customer,
    "saved_cards:setup_finish": _setup,
    "saved_cards:save_changes": _customer,
    "saved_cards:invite_create": _customer,
    "saved_cards:invite": _invite,
    "saved_cards:update_link": _customer,
    "saved_cards:card_page": _token,
    "saved_cards:card_setup_start": _token,
    "saved_cards:card_setup_finish": _token_and_setup,
}
