"""Money first: a payment's webhook event is queued ahead of a card reader's (payments.webhooks._priority),
and the Redis broker serves priority 0 before 3 (posbackoffice.jobs.FIRST / AFTER)."""

import json
import time
import uuid

import pytest
from django.conf import settings
from kombu import Connection, Exchange, Queue

from payments import tasks
from payments.sandbox.events import sign
from payments.webhooks import webhook_receive
from posbackoffice import jobs

pytestmark = pytest.mark.django_db


def _event(kind: str, obj: dict) -> dict:
    return {"id": f"evt_{uuid.uuid4().hex}", "type": kind, "created": int(time.time()), "livemode": False,
            "data": {"object": obj}}


def _receive(event: dict):
    payload = json.dumps(event).encode()
    return webhook_receive(processor="sandbox", payee="", payload=payload,
                           signature=sign(payload, settings.SANDBOX_WEBHOOK_SECRET))


def test_a_payment_event_is_queued_before_a_reader_event(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(tasks.process_webhook_event, "apply_async",
                        lambda args, **options: sent.append((args, options["priority"])))

    with django_capture_on_commit_callbacks(execute=True):
        reader = _receive(_event("terminal.reader.action_succeeded", {"id": "tmr_sbx_1", "object": "terminal.reader"}))
        payment = _receive(_event("payment_intent.succeeded", {"id": "pi_sbx_1", "object": "payment_intent",
                                                               "metadata": {}}))
        refund = _receive(_event("charge.refund.updated", {"id": "re_sbx_1", "object": "refund", "metadata": {}}))

    assert sent == [((reader.pk,), jobs.AFTER), ((payment.pk,), jobs.FIRST), ((refund.pk,), jobs.FIRST)]


def test_the_redis_broker_serves_priority_first_messages_before_after_ones():
    queue = Queue(f"tests-priority-{uuid.uuid4().hex}", Exchange("tests-priority", type="direct"),
                  routing_key="tests-priority")
    with Connection(settings.CELERY_BROKER_URL) as connection:
        producer = connection.Producer()
        try:
            for body, priority in (("reader 1", jobs.AFTER), ("payment 1", jobs.FIRST), ("reader 2", jobs.AFTER),
                                   ("payment 2", jobs.FIRST)):
                producer.publish(body, exchange=queue.exchange, routing_key=queue.routing_key, declare=[queue],
                                 priority=priority)
            bound = queue(connection.default_channel)
            received = []
            while (message := bound.get(no_ack=True)) is not None:
                received.append(message.payload)
        finally:
            queue(connection.default_channel).delete()

    assert received == ["payment 1", "payment 2", "reader 1", "reader 2"]
