"""Reads of saved cards, always scoped to one merchant account."""

import datetime
import zoneinfo

from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.tenancy import scoped
from saved_cards.models import SavedCard, SavedCardSettings

EXPIRING_WITHIN_DAYS = 30


def processor_customer_details(customer) -> dict:
    """What the processor's copy of a customer holds (saved_cards.services.PROCESSOR_CUSTOMER_FIELDS)."""
    return {"email": customer.email, "name": customer.full_name or customer.company or str(customer)}


def shop_today(account, now=None) -> datetime.date:
    """Today in the shop's time zone (a card expires at the end of its month, where the shop is)."""
    return timezone.localdate(now or timezone.now(), zoneinfo.ZoneInfo(account.timezone))


def feature_settings(account) -> SavedCardSettings | None:
    return scoped(SavedCardSettings, account).select_related("terms_accepted_by").first()


def feature_enabled(account) -> bool:
    if account is None:
        return False
    return scoped(SavedCardSettings, account).filter(enabled=True).exists()


def customer_cards(account, customer, today: datetime.date) -> list[SavedCard]:
    """The customer's cards as the profile lists them: the default first, then the most recent to the
    oldest, expired cards last; each with `.expired` set for today."""
    cards = list(scoped(SavedCard, account).filter(customer=customer).select_related("added_by")
                 .order_by("-created_at", "-id"))
    for card in cards:
        card.expired = card.expired_on(today)
    return sorted(cards, key=lambda card: (card.expired, not card.is_default))


def usable_cards(account, customer, today: datetime.date) -> list[SavedCard]:
    """The cards a sale can be charged to: not expired, the default first."""
    return [card for card in customer_cards(account, customer, today) if not card.expired]


def card_count(account, customer) -> int:
    return scoped(SavedCard, account).filter(customer=customer).count()


def with_expiring_default_card(customers, account, today: datetime.date | None = None):
    """Customers whose default card expires within EXPIRING_WITHIN_DAYS (and has not expired yet)."""
    today = today or shop_today(account)
    expiring = scoped(SavedCard, account).filter(
        customer=OuterRef("pk"), is_default=True, expires_on__gte=today,
        expires_on__lte=today + datetime.timedelta(days=EXPIRING_WITHIN_DAYS))
    return customers.filter(Exists(expiring))

