"""Processor webhook events about objects payments does not own, handled by the app that owns them:
the terminal app handles `terminal.reader.action_succeeded` / `terminal.reader.action_failed` (a reader
finished what the driver asked). Registered in the app's AppConfig.ready, keyed by event type.

A handler is `handler(obj: dict, *, processor: str, payee: str) -> (outcome: str, payment_id: int | None)`:
`obj` is the event's object (already checked to be a mapping with an id); it reads what it needs from
the processor, settles through services, and answers a short outcome kept on the stored event. It raises
a GatewayError for transient processor trouble (the event is retried) like payments' own handlers."""

from collections.abc import Callable

from posbackoffice.registry import Registry

HANDLERS: Registry[Callable] = Registry("processor event handlers of other apps")
