"""The work of saved cards' background tasks (saved_cards.tasks): detaching a card at the processor
once it is deleted here, and the daily mark of expired cards."""

import zoneinfo

from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from payments.gateway import MERCHANT, get_gateway
from payments.gateway.errors import InvalidRequest
from saved_cards.models import SavedCard


def processor_card_detach(*, processor: str, payment_method_id: str) -> None:
    """After a saved card is deleted (or refused): detach it at the processor, so it can never be
    charged. Already detached (a retry whose first answer was lost) is done too."""
    gateway = get_gateway(MERCHANT)
    if gateway.name != processor:
        return  # saved with a processor this installation no longer uses: nothing to reach
    try:
        gateway.detach_card(payment_method_id)
    except InvalidRequest:
        pass


def saved_cards_mark_expired(*, now=None) -> int:
    """The daily task: cards whose expiry month is over (in their shop's time zone) are marked expired.
    Marked cards sort last on the profile and are never offered for a sale."""
    now = now or timezone.now()
    marked = 0
    zones = SavedCard.objects.filter(is_expired=False).values_list("account__timezone", flat=True).distinct()
    for zone in sorted(set(zones)):
        today = timezone.localdate(now, timezone=zoneinfo.ZoneInfo(zone))
        with transaction.atomic():
            due = (SavedCard.objects.select_for_update().select_related("account")
                   .filter(account__timezone=zone, is_expired=False, expires_on__lt=today).order_by("pk"))
            for card in due:
                card.is_expired = True
                card.save(update_fields=["is_expired"])
                audit_record(account=card.account, actor=None, action="saved_card.expired", target=card,
                             before={"is_expired": False}, after={"is_expired": True}, at=now)
                marked += 1
    return marked
