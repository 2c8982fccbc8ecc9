"""Demo data of saved payment methods, loaded by `manage.py demo_data` after the POS core's: the demo
shop has the feature on (its owner accepted the terms of use) and three customers have a card saved
through the sandbox processor, as the profile's "Add card and save" does: a Visa, a Mastercard whose
expiry month is this one (the Customers filter "Card expiring" finds it) and the test card that saves
fine but is declined when charged. Only with the sandbox processor; idempotent."""

import datetime

from django.utils import timezone

from accounts import permissions as perms
from accounts.models import Membership
from accounts.tenancy import scoped
from payments.gateway import MERCHANT, get_gateway
from payments.sandbox import services as sandbox
from retail.models import Customer
from saved_cards import selectors, services
from saved_cards.models import SavedCard, SavedCardSettings


def _cards(today: datetime.date) -> list[tuple[str, str]]:
    later = f"12/{(today.year + 3) % 100:02d}"
    this_month = f"{today.month:02d}/{today.year % 100:02d}"
    return [("4242424242424242", later), ("5555555555554444", this_month), ("4000000000000341", later)]


def _saved_through_the_card_entry(*, owner, customer, number: str, expiry: str) -> SavedCard:
    account = customer.account
    started = services.card_setup_start(actor=owner, account=account, customer_id=customer.pk, consent=True,
                                        source=SavedCard.Source.PROFILE)
    # What the browser's card-entry module does with the setup: tokenize the card, confirm the setup.
    method = sandbox.payment_method_create(number=number, expiry=expiry, cvc="123")
    setup_id = started.client_secret.split("_secret_")[0]
    sandbox.setup_intent_confirm(setup_id=setup_id, client_secret=started.client_secret,
                                 payment_method_id=method["id"])
    return services.card_setup_finish(account=account, setup_id=started.setup.pk)


def load(account) -> None:
    if get_gateway(MERCHANT).name != "sandbox":
        return  # the demo types test cards, which only the sandbox takes
    owner = scoped(Membership, account).get(role__preset=perms.OWNER).user
    if not scoped(SavedCardSettings, account).exists():
        services.saved_cards_enable(actor=owner, account=account, accept_terms=True)
    if not selectors.feature_enabled(account) or scoped(SavedCard, account).exists():
        return
    customers = scoped(Customer, account).exclude(email="").exclude(first_name="").order_by("pk")
    for customer, (number, expiry) in zip(customers[:3], _cards(selectors.shop_today(account, timezone.now())),
                                           strict=False):
        _saved_through_the_card_entry(owner=owner, customer=customer, number=number, expiry=expiry)
