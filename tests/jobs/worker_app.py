"""posbackoffice's Celery app as the worker tests start it (`celery -A tests.jobs.worker_app worker`),
with two knobs a test sets in the worker's environment:

- JOBS_TEST_CHARGE_PAUSE (seconds): the sandbox processor records a charge, then its answer takes that
  long to come back (the window in which a test kills the worker, or a duplicate task runs). Its webhook
  events are held back, as if the worker died before the processor's webhook reached us.
- JOBS_TEST_VISIBILITY_TIMEOUT (seconds): a killed worker's unacknowledged message goes back to the queue
  after that long (production: 15 minutes, settings.py), restored by the next worker that starts.
- JOBS_TEST_MAIL_FAILURES (a count): the mail server refuses that many deliveries first; the e-mail
  backoff starts at 1 s instead of 30.
"""

import os
import time

import django

from posbackoffice.celery import app

django.setup()

_pause = float(os.environ.get("JOBS_TEST_CHARGE_PAUSE", "0"))
if _pause:
    from payments.gateway import sandbox

    _answer = sandbox.SandboxGateway._call

    def _slow_answer(self, operation, run):
        if operation not in ("create_card_payment", "charge_saved_card"):
            return _answer(self, operation, run)
        with sandbox.hold_events():
            result = _answer(self, operation, run)
        time.sleep(_pause)
        return result

    sandbox.SandboxGateway._call = _slow_answer

_visibility = os.environ.get("JOBS_TEST_VISIBILITY_TIMEOUT")
if _visibility:
    app.conf.broker_transport_options = {**app.conf.broker_transport_options, "visibility_timeout": int(_visibility),
                                         "unacked_restore_interval": 1, "unacked_restore_throttle": 1}

_mail_failures = int(os.environ.get("JOBS_TEST_MAIL_FAILURES", "0"))
if _mail_failures:
    import accounts.email_delivery
    from posbackoffice.outbox import OutboxBackend

    accounts.email_delivery.EMAIL_RETRY_BASE_SECONDS = 1
    _deliver = OutboxBackend.send_messages
    _refusals = [_mail_failures]

    def _flaky_delivery(self, messages):
        if _refusals[0] > 0:
            _refusals[0] -= 1
            raise ConnectionRefusedError("the mail server is down")
        return _deliver(self, messages)

    OutboxBackend.send_messages = _flaky_delivery
