"""Saved cards something relies on cannot be deleted; the refusal says why.

A protector is a function (card) -> str | None: the reason, in the reader's language, or None. This
app registers the rule of the on-account balance; subscriptions registers "an active subscription is
paid with this card" the same way, in its AppConfig.ready (`protection.register(...)`)."""

from collections.abc import Callable

from django.utils.translation import gettext as _

from posbackoffice.money import format_money

PROTECTORS: list[Callable] = []


def register(protector: Callable) -> None:
    if protector not in PROTECTORS:
        PROTECTORS.append(protector)


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


register(owed_on_account)
