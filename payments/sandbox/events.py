"""The sandbox's webhook events: Stripe-shaped, stored in SandboxEvent, signed like Stripe signs them
and handed, once the change that emitted them is committed, to the receivers registered with the
sandbox (RECEIVERS, a posbackoffice.registry.Registry: payments registers its webhook handling in
PaymentsConfig.ready). The sandbox imports nothing of ours, as Stripe knows nothing of our code: it is a
processor that sends signed events to whoever subscribed.

Delivery contract (what a receiver, `receiver(payload, signature)`, gets):
- `payload`: the event as JSON bytes (UTF-8), {"id": "evt_sbx_…", "object": "event", "type": …,
  "created": <unix>, "livemode": false, "api_version": "sandbox", "data": {"object": {…}}};
- `signature`: exactly Stripe's `Stripe-Signature` header, `t=<unix>,v1=<hex hmac_sha256(secret,
  f"{t}.{payload}")>` with settings.SANDBOX_WEBHOOK_SECRET, so `stripe.WebhookSignature.verify_header`
  checks both processors' events with the same code.
An event is delivered when every receiver accepted it (returned without raising); until then, and while
no receiver is registered, it stays pending for `events_deliver_pending()` (oldest first). A receiver
must accept the same event twice without doing anything twice (ours stores events once by id).
"""

import hashlib
import hmac
import json
import logging
import secrets
import string
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from payments.sandbox.models import SandboxEvent
from posbackoffice.registry import Registry

logger = logging.getLogger(__name__)

_ALPHABET = string.ascii_letters + string.digits
_held = 0
_held_lock = threading.Lock()

# (payload: bytes, signature: str) -> anything; raising refuses the event.
RECEIVERS: Registry[Callable[[bytes, str], object]] = Registry("sandbox event receivers")


def new_id(prefix: str) -> str:
    return f"{prefix}_sbx_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's signature header for these bytes."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def payload_bytes(event: SandboxEvent) -> bytes:
    return json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()


def event_emit(event_type: str, obj: dict, *, now=None, previous_attributes: dict | None = None) -> SandboxEvent:
    """Store an event about `obj` and deliver it after the surrounding transaction commits."""
    now = now or timezone.now()
    data = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    event_id = new_id("evt")
    event = SandboxEvent.objects.create(
        event_id=event_id, type=event_type, created_at=now,
        payload={"id": event_id, "object": "event", "type": event_type, "created": int(now.timestamp()),
                 "livemode": False, "api_version": "sandbox", "pending_webhooks": 1, "data": data})
    if not _held:
        transaction.on_commit(lambda: event_deliver(event_pk=event.pk, event=event), robust=True)
    return event


def event_deliver(*, event_pk: int, event: SandboxEvent | None = None) -> bool:
    """Sign and hand one event to the registered receivers; True once they all accepted it. A receiver
    error is kept on the event (its type only) and the event stays pending for `events_deliver_pending`.
    `event`: the row as just emitted (its payload never changes), not read again."""
    if not RECEIVERS:
        return False
    event = event if event is not None else SandboxEvent.objects.get(pk=event_pk)
    payload = payload_bytes(event)
    signature = sign(payload, settings.SANDBOX_WEBHOOK_SECRET)
    try:
        for receiver in RECEIVERS:
            receiver(payload, signature)
    except Exception as error:  # a webhook receiver failing must not break the processor
        logger.warning("sandbox event %s not delivered: %s", event.event_id, type(error).__name__)
        SandboxEvent.objects.filter(pk=event.pk).update(delivery_error=type(error).__name__[:300])
        return False
    SandboxEvent.objects.filter(pk=event.pk).update(delivered_at=timezone.now(), delivery_error="")
    return True


def events_deliver_pending(*, limit: int = 500) -> int:
    """Deliver events not delivered yet (held, or refused by the receiver), oldest first. Returns how
    many were accepted."""
    pending = SandboxEvent.objects.filter(delivered_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    return sum(event_deliver(event_pk=pk) for pk in list(pending[:limit]))


@contextmanager
def hold_events():
    """While open, events are stored but not delivered (for tests of lost, late, duplicate or reordered
    webhooks: deliver them afterwards with event_deliver / events_deliver_pending)."""
    global _held
    with _held_lock:
        _held += 1
    try:
        yield
    finally:
        with _held_lock:
            _held -= 1
