"""Processor webhook events about objects payments does not own, handled by the app that owns them:
the terminal app handles `terminal.reader.action_succeeded` / `terminal.reader.action_failed` (a reader
finished what the driver asked). Registered in the app's AppConfig.ready, keyed by event type.

A handler is `handler(obj: dict, *, processor: str, payee: str) -> (outcome: str, payment_id: int | None)`:
`obj` is the event's object (already checked to be a mapping with an id); it reads what it needs from
the processor, settles through services, and answers a short outcome kept on the stored event. It raises
a GatewayError for transient processor trouble (the event is retried) like payments' own handlers.

PAYMENT_FOLLOWERS: apps whose rows follow a payment. After a payment event (payment_intent.*) was handled,
each follower is called with our payment as it now is, in the event's task, outside any transaction:
`follower(payment) -> None`. The terminal app ends the reader's action that took a card_present payment
at once, in that same task, instead of waiting for the reader's own event to be queued and handled. A
follower does not call the processor about the payment (it has just been read), takes its own locks in
the documented order, and must be idempotent (the same event may be handled twice); an exception
fails the event's task like a handler's."""

from collections.abc import Callable

from posbackoffice.registry import Registry

HANDLERS: Registry[Callable] = Registry("processor event handlers of other apps")
PAYMENT_FOLLOWERS: Registry[Callable] = Registry("followers of payment events")
