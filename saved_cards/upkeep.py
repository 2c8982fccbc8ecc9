"""The work of saved cards' background tasks (saved_cards.tasks): detaching a card at the processor
once it is let go here (a CardDetachment row, swept until done), and the daily mark of expired cards. The
work of a task never lives in the module that queues it (saved_cards.services), so they do not import
each other."""

import datetime
import zoneinfo

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.services import audit_record
from payments.gateway import MERCHANT, get_gateway
from payments.gateway.errors import GatewayError, InvalidRequest
from posbackoffice import jobs
from saved_cards.models import CardCustomer, CardDetachment, SavedCard
from saved_cards.selectors import processor_customer_details

# A worker holds a detachment this long (one processor call); transient trouble is retried after 5 s
# doubling up to 10 minutes, jittered, CardDetachment.MAX_TRIES times in all.
DETACH_LEASE_SECONDS = 60
DETACH_RETRY_BASE_SECONDS, DETACH_RETRY_CAP_SECONDS = 5, 600
# The sweep leaves a just-written detachment to its own task for this long.
DETACH_SWEEP_GRACE = datetime.timedelta(seconds=30)


def card_detachments_due(now) -> list[int]:
    """Detachments not done that nobody holds (index card_detachment_due)."""
    return list(CardDetachment.objects.filter(jobs.unclaimed(now), detached_at__isnull=True,
                                              tries__lt=CardDetachment.MAX_TRIES,
                                              created_at__lt=now - DETACH_SWEEP_GRACE)
                .order_by("created_at").values_list("pk", flat=True)[:jobs.SWEEP_LIMIT])


def card_detachment_run(*, detachment_id: int) -> CardDetachment | None:
    """Detach the card at the processor, so it can never be charged. Already detached (a retry whose
    first answer was lost) is done too; a card saved with a processor this installation no longer uses
    has nothing to reach. None when another worker holds it, its retry is not due, or it is done."""
    claim = jobs.claim(CardDetachment, detachment_id, seconds=DETACH_LEASE_SECONDS, tries=F("tries") + 1,
                       due=Q(detached_at__isnull=True, tries__lt=CardDetachment.MAX_TRIES))
    if claim is None:
        return None
    detachment = CardDetachment.objects.get(pk=detachment_id)
    gateway = get_gateway(MERCHANT)
    try:
        if gateway.name == detachment.processor:
            gateway.detach_card(detachment.payment_method_id)
    except InvalidRequest:
        pass  # no longer attached
    except GatewayError as error:
        countdown = jobs.backoff(detachment.tries, base=DETACH_RETRY_BASE_SECONDS, cap=DETACH_RETRY_CAP_SECONDS)
        claim.release(hold=countdown, last_error=error.code[:60])
        raise jobs.TryLater(countdown) from None
    claim.release(detached_at=timezone.now(), last_error="")
    detachment.refresh_from_db()
    return detachment


# A worker holds a processor customer this long while sending its details (one processor call); transient
# trouble is retried after 5 s doubling up to 10 minutes, jittered, CardCustomer.MAX_TRIES times in all.
SYNC_LEASE_SECONDS = 60
SYNC_RETRY_BASE_SECONDS, SYNC_RETRY_CAP_SECONDS = 5, 600


def _sync_due() -> Q:
    return Q(synced_version__lt=F("details_version"), tries__lt=CardCustomer.MAX_TRIES)


def card_customers_to_sync(now) -> list[int]:
    """Processor customers whose name or e-mail changed here and were not sent yet, nobody holding them
    (index card_customer_sync_due)."""
    return list(CardCustomer.objects.filter(jobs.unclaimed(now), _sync_due())
                .order_by("created_at").values_list("pk", flat=True)[:jobs.SWEEP_LIMIT])


def card_customer_sync(*, card_customer_id: int) -> CardCustomer | None:
    """Give the processor's copy of a customer their current name and e-mail (read now, so a late or
    repeated run sends the latest details), and record the version sent. A copy the processor no longer
    knows is left alone. None when another worker holds it, its retry is not due, or it is up to date."""
    claim = jobs.claim(CardCustomer, card_customer_id, seconds=SYNC_LEASE_SECONDS, due=_sync_due(),
                       tries=F("tries") + 1)
    if claim is None:
        return None
    copy = CardCustomer.objects.select_related("customer").get(pk=card_customer_id)
    version = copy.details_version
    gateway = get_gateway(MERCHANT)
    try:
        if gateway.name == copy.processor:
            gateway.update_customer(copy.processor_customer_id, **processor_customer_details(copy.customer))
    except InvalidRequest:
        pass  # NotFound among them: deleted at the processor, nothing to keep in step
    except GatewayError as error:
        countdown = jobs.backoff(copy.tries, base=SYNC_RETRY_BASE_SECONDS, cap=SYNC_RETRY_CAP_SECONDS)
        claim.release(hold=countdown, last_error=error.code[:60])
        raise jobs.TryLater(countdown) from None
    claim.release(synced_version=version, tries=0, last_error="")
    copy.refresh_from_db()
    return copy


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
