"""Saved cards something relies on cannot be deleted; the refusal says why.

A protector is a function (card) -> str | None: the reason, in the reader's language, or None,
registered into PROTECTORS (posbackoffice.registry) in an AppConfig.ready. This app registers the rule
of the on-account balance; subscriptions will register "an active subscription is paid with this card"
the same way (`protection.PROTECTORS.register("subscriptions", ...)`)."""

from collections.abc import Callable

from django.utils.translation import gettext as _

from posbackoffice.money import format_money
from posbackoffice.registry import Registry

PROTECTORS: Registry[Callable] = Registry("saved card protectors")


def reasons(card) -> list[str]:
    """Why this card cannot be deleted now (empty: it can)."""
    return [reason for protector in PROTECTORS if (reason := protector(card))]


def owed_on_account(card) -> str | None:
    """What the customer owes on account is settled with their default card: keep it until another
    card is the default or the balance is paid."""
    customer = card.customer
    if card.is_default and customer.balance > 0:
        return _("This is the default card of a customer who owes %(amount)s on account. Set another card as "
                 "the default, or settle the balance, before deleting it.") % {
            "amount": format_money(customer.balance, card.account.currency)}
    return None
