"""Saving the card of a card payment for later, which payments itself knows nothing about: the app
that keeps customers' saved cards (saved_cards, which payments must not import) registers its CardSaver
into SAVERS (a posbackoffice.registry.Registry holding one entry) in its AppConfig.ready.

- offer(request, sale) -> SaveCardOffer | None: what the manual-entry page shows under the card ("Save
  payment details for future purchases"), or None to show nothing (the feature is off, the cashier's
  role may not add cards);
- prepare(*, actor, account, sale) -> str: the processor customer the card is to be saved to (created
  once); raises DomainError, with the message to show, when saving is refused;
- record(*, payment, card) -> None: called inside payment_settle's transaction when a payment that asked
  to save its card has succeeded, with the processor's CardDetails. It must not call the processor; a
  DomainError it raises is logged and the payment stands.
"""

from dataclasses import dataclass
from typing import Protocol

from posbackoffice.registry import Registry


@dataclass(frozen=True)
class SaveCardOffer:
    label: str
    help: str = ""
    refused: str = ""  # why the box cannot be ticked for this sale; shown instead of the box


class CardSaver(Protocol):
    def offer(self, request, sale) -> SaveCardOffer | None: ...

    def prepare(self, *, actor, account, sale) -> str: ...

    def record(self, *, payment, card) -> None: ...


SAVERS: Registry[CardSaver] = Registry("card savers", single=True)


def current() -> CardSaver | None:
    return SAVERS.first()
