"""Finishing a card setup at the processor, for the apps that save a card with one: saved_cards (a
customer's card on the shop's processor account) and billing (the merchant's card on the platform's).
Each keeps its own record of the setup and of the card; what the processor is asked, and what its answer
means, is the same for both and lives here."""

from django.utils.translation import gettext as _

from payments.gateway import get_gateway
from payments.gateway.base import SavedCard, SetupStatus
from payments.messages import failure_message
from posbackoffice.errors import DomainError


class CardSetupFailed(DomainError):
    """The processor refused the card: the message says why in our words (payments.messages);
    `failure_code` is the processor's code, for the caller's record of the setup."""

    def __init__(self, failure_code: str):
        super().__init__(failure_message(failure_code))
        self.failure_code = failure_code


def card_setup_result(*, payee: str, setup_id: str, customer_id: str) -> SavedCard:
    """The browser says the card is confirmed: ask the payee's processor how the setup `setup_id` ended
    and answer the card it saved for `customer_id`. Raises CardSetupFailed when the card was refused, a
    DomainError while the cardholder has not finished (or the card is not that customer's), and lets a
    GatewayError through, which each app words its own way."""
    gateway = get_gateway(payee)
    finished = gateway.finish_card_setup(setup_id)
    card = gateway.get_card(finished.payment_method_id) if finished.status == SetupStatus.SUCCEEDED else None
    if finished.status == SetupStatus.FAILED:
        raise CardSetupFailed(finished.failure_code)
    if card is None or card.customer_id != customer_id:
        raise DomainError(_("The card is not confirmed yet. Finish entering it, then try again."))
    return card
