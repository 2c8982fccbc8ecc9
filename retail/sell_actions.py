"""What apps above retail (which retail must not import) add to the sell screen, registered in their
AppConfig.ready into the registries below (posbackoffice.registry):

- other ways to pay (ACTIONS): the payments app adds "Credit/Debit › Manual entry", saved_cards adds
  "Saved payments". Each entry links to a page of its app that takes the payment for the sale in
  progress and comes back to the sell screen. An entry shows when the cashier's role grants its
  permission and, if it has one, its `available(request, sale)` says yes (e.g. a customer is attached,
  the feature is on); an entry without a group stands on its own, without a heading;
- notices on the cart (NOTICE_PROVIDERS, each `provider(request, sale) -> list[CartNotice]`): the
  payments app tells the cashier about a card payment of this sale that is still pending, with what can
  be done about it (each action is a POST to its app's URL)."""

from collections.abc import Callable
from dataclasses import dataclass, field

from posbackoffice.registry import Registry


@dataclass(frozen=True)
class SellPaymentAction:
    group: str  # e.g. "Credit/Debit"; "" for an entry of its own
    label: str  # e.g. "Manual entry"
    url_name: str
    permission: str = "sell"
    available: Callable | None = None  # (request, sale) -> bool


ACTIONS: Registry[SellPaymentAction] = Registry("sell screen payment actions")


def grouped(request, sale) -> list[tuple[str, list[SellPaymentAction]]]:
    groups: dict[str, list[SellPaymentAction]] = {}
    for action in ACTIONS:
        if action.permission not in request.permissions:
            continue
        if action.available is not None and not action.available(request, sale):
            continue
        groups.setdefault(str(action.group), []).append(action)
    return list(groups.items())


@dataclass(frozen=True)
class CartNoticeAction:
    label: str
    url: str
    confirm: str = ""


@dataclass(frozen=True)
class CartNotice:
    message: str
    actions: list[CartNoticeAction] = field(default_factory=list)


NOTICE_PROVIDERS: Registry[Callable] = Registry("sell screen cart notices")


def notices(request, sale) -> list[CartNotice]:
    return [notice for provider in NOTICE_PROVIDERS for notice in provider(request, sale)]
