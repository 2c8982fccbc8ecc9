"""Other ways to pay on the sell screen, contributed by apps above retail (which retail must not
import): the payments app adds "Credit/Debit › Manual entry". Each entry links to a page of its app
that takes the payment for the sale in progress and comes back to the sell screen."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SellPaymentAction:
    key: str
    group: str  # e.g. "Credit/Debit"
    label: str  # e.g. "Manual entry"
    url_name: str
    permission: str = "sell"


ACTIONS: dict[str, SellPaymentAction] = {}


def register(action: SellPaymentAction) -> None:
    ACTIONS[action.key] = action


def grouped(permissions) -> list[tuple[str, list[SellPaymentAction]]]:
    groups: dict[str, list[SellPaymentAction]] = {}
    for action in ACTIONS.values():
        if action.permission in permissions:
            groups.setdefault(str(action.group), []).append(action)
    return list(groups.items())
