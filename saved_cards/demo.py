"""Demo data of saved payment methods, loaded by `manage.py demo_data` after the POS core's: the demo
shop has the feature on (its owner accepted the terms of use) and three customers have a card saved
through the sandbox processor, as the profile's "Add card and save" does: a Visa, a Mastercard whose
expiry month is this one (the Customers filter "Card expiring" finds it) and the test card that saves
fine but is declined when charged. The first customer also has an older card, saved some fourteen
months ago, that has since expired (marked by the daily expiry task), so the profile shows expired
cards last. Only with the sandbox processor; idempotent."""

import datetime

from django.utils import timezone

from accounts import permissions as perms
from accounts.models import Membership
from accounts.tenancy import scoped
from payments.gateway import MERCHANT, get_gateway
from payments.sandbox import services as sandbox
from retail.models import Customer
from saved_cards import selectors, services, upkeep
from saved_cards.models import SavedCard, SavedCardSettings


def _cards(today: datetime.date) -> list[tuple[str, str]]:
    later = f"12/{(today.year + 3) % 100:02d}"
    this_month = f"{today.month:02d}/{today.year % 100:02d}"
    return [("4242424242424242", later), ("5555555555554444", this_month), ("4000000000000341", later)]


# A card of the first customer, saved this long ago with an expiry a few months later: expired since.
EXPIRED_CARD = "5200828282828210"
EXPIRED_CARD_SAVED_DAYS_AGO = 420
EXPIRED_CARD_VALID_DAYS = 90


def _expired_card(now) -> tuple[datetime.datetime, str]:
    """When the expired card was saved, and the expiry it had then."""
    saved_at = now - datetime.timedelta(days=EXPIRED_CARD_SAVED_DAYS_AGO)
    ends = saved_at + datetime.timedelta(days=EXPIRED_CARD_VALID_DAYS)
    return saved_at, f"{ends.month:02d}/{ends.year % 100:02d}"


def _saved_through_the_card_entry(*, owner, customer, number: str, expiry: str, now=None) -> SavedCard:
    account = customer.account
    started = services.card_setup_start(actor=owner, account=account, customer_id=customer.pk, consent=True,
                                        source=SavedCard.Source.PROFILE, now=now)
    # What the browser's card-entry module does with the setup: tokenize the card, confirm the setup.
    method = sandbox.payment_method_create(number=number, expiry=expiry, cvc="123", now=now)
    setup_id = started.client_secret.split("_secret_")[0]
    sandbox.setup_intent_confirm(setup_id=setup_id, client_secret=started.client_secret,
                                 payment_method_id=method["id"])
    return services.card_setup_finish(account=account, setup_id=started.setup.pk, now=now)


def load(account) -> None:
    if get_gateway(MERCHANT).name != "sandbox":
        return  # the demo types test cards, which only the sandbox takes
    owner = scoped(Membership, account).get(role__preset=perms.OWNER).user
    if not scoped(SavedCardSettings, account).exists():
        services.saved_cards_enable(actor=owner, account=account, accept_terms=True)
    if not selectors.feature_enabled(account) or scoped(SavedCard, account).exists():
        return
    now = timezone.now()
    customers = list(scoped(Customer, account).exclude(email="").exclude(first_name="").order_by("pk")[:3])
    for customer, (number, expiry) in zip(customers, _cards(selectors.shop_today(account, now)), strict=False):
        _saved_through_the_card_entry(owner=owner, customer=customer, number=number, expiry=expiry)
    if customers:
        saved_at, expiry = _expired_card(now)
        _saved_through_the_card_entry(owner=owner, customer=customers[0], number=EXPIRED_CARD, expiry=expiry,
                                      now=saved_at)
        upkeep.saved_cards_mark_expired(now=now)  # what the daily task has done since
