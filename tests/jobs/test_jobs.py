"""The pieces of posbackoffice.jobs as a task and a request use them: a claim is one conditional UPDATE
that one caller wins, an expired claim is taken again (and its first holder can no longer release it),
sweeps enqueue on commit and stop at the first broker failure, enqueueing never raises into a request,
and a batch retries only its rows that asked for it."""

import datetime
import logging

import pytest
import time_machine
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import OutgoingEmail
from posbackoffice import jobs
from tests.jobs.workers import celery_app_on, free_port

pytestmark = pytest.mark.django_db

QUEUED = Q(status=OutgoingEmail.Status.QUEUED)


def an_email(**fields) -> OutgoingEmail:
    return OutgoingEmail.objects.create(subject="Bonjour", text="…", recipients=["lea@shop.test"], **fields)


def test_one_of_two_claims_wins_and_counts_its_try_in_the_same_update():
    email = an_email()

    first = jobs.claim(OutgoingEmail, email.pk, seconds=60, due=QUEUED, tries=F("tries") + 1)
    second = jobs.claim(OutgoingEmail, email.pk, seconds=60, due=QUEUED, tries=F("tries") + 1)

    assert first is not None and second is None
    email.refresh_from_db()
    assert email.tries == 1 and email.lease_until == first.until


def test_a_claim_that_expires_is_taken_again_and_its_first_holder_cannot_release_it():
    email = an_email()
    first = jobs.claim(OutgoingEmail, email.pk, seconds=60, due=QUEUED)

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
        second = jobs.claim(OutgoingEmail, email.pk, seconds=60, due=QUEUED)
        assert second is not None
        assert not first.release(status=OutgoingEmail.Status.SENT)  # the first worker woke up late
        assert not first.extend(60)
        email.refresh_from_db()
        assert email.status == OutgoingEmail.Status.QUEUED and email.lease_until == second.until
        assert second.release(status=OutgoingEmail.Status.SENT)

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT and email.lease_until is None


def test_a_row_no_longer_due_or_held_back_is_not_claimed():
    sent = an_email(status=OutgoingEmail.Status.SENT)
    held = an_email()
    jobs.claim(OutgoingEmail, held.pk, seconds=60, due=QUEUED).release(hold=30)  # its retry is in 30 s

    assert jobs.claim(OutgoingEmail, sent.pk, seconds=60, due=QUEUED) is None
    assert jobs.claim(OutgoingEmail, held.pk, seconds=60, due=QUEUED) is None
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31)):
        assert jobs.claim(OutgoingEmail, held.pk, seconds=60, due=QUEUED) is not None


@pytest.mark.parametrize("tries", [1, 2, 5, 12])
def test_backoff_doubles_up_to_its_cap_with_jitter(tries):
    ceiling = min(600, 30 * 2 ** (tries - 1))
    delays = {jobs.backoff(tries, base=30, cap=600) for _ in range(50)}

    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(delays) > 1  # rows failing together come back apart


class RecordingTask:
    """Stands for a Celery task: records what would be published or retried."""

    name = "tests.recording"

    def __init__(self):
        self.published, self.retried = [], []

    def apply_async(self, args, **options):
        self.published.append(args)

    def retry(self, *, args, countdown):
        self.retried.append((args, countdown))
        return RuntimeError("retry")


def test_a_sweep_enqueues_ids_only_once_committed_and_in_batches_when_asked(django_capture_on_commit_callbacks):
    task = RecordingTask()

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sweep(task, [3, 1, 2], batch=2) == 3
        assert task.published == []  # nothing leaves before the commit
        with pytest.raises(RuntimeError), transaction.atomic():
            jobs.sweep(task, [4])
            raise RuntimeError("the sweep's transaction fails: it sends nothing")

    assert task.published == [(3, 1), (2,)]


def test_a_batch_retries_only_its_rows_that_asked_after_the_longest_countdown():
    task, done = RecordingTask(), []

    def work(pk):
        if pk in (2, 3):
            raise jobs.TryLater(countdown=10 * pk)
        done.append(pk)

    with pytest.raises(RuntimeError, match="retry"):
        jobs.run_rows(task, [1, 2, 3, 4], work)

    assert done == [1, 4] and task.retried == [([2, 3], 30)]


def test_a_row_failing_unexpectedly_does_not_stop_the_others_and_fails_the_task(caplog):
    done = []

    def work(pk):
        if pk == 2:
            raise KeyError("bug")
        done.append(pk)

    with pytest.raises(KeyError):
        jobs.run_rows(RecordingTask(), [1, 2, 3], work)
    assert done == [1, 3] and "row 2 failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_a_request_still_succeeds_and_the_row_stays_due(client, owner, caplog):
    from accounts.selectors import emails_due

    caplog.set_level(logging.WARNING, logger="posbackoffice.jobs")
    with celery_app_on(f"redis://127.0.0.1:{free_port()}/0"):  # nothing listens there
        response = client.post(reverse("password_reset"), {"email": owner.email})

    assert response.status_code == 302
    email = OutgoingEmail.objects.get()
    assert email.recipients == [owner.email] and email.status == OutgoingEmail.Status.QUEUED
    assert f"accounts.tasks.deliver_email({email.pk},) not queued" in caplog.text
    assert owner.email not in caplog.text
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1)):
        assert emails_due(timezone.now()) == [email.pk]  # the next sweep enqueues it


@pytest.mark.django_db(transaction=True)
def test_a_sweep_stops_at_the_first_broker_failure(caplog):
    from accounts.tasks import deliver_email

    with celery_app_on(f"redis://127.0.0.1:{free_port()}/0"):
        assert jobs.sweep(deliver_email, [1, 2, 3]) == 3

    assert caplog.text.count("not queued") == 1


def test_every_sweep_is_on_beats_schedule():
    from posbackoffice.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    for sweep, every in [("accounts.tasks.send_due_emails", 60), ("payments.tasks.reconcile_payments", 120),
                         ("payments.tasks.sweep_webhook_events", 60),
                         ("saved_cards.tasks.sweep_card_detachments", 300), ("posbackoffice.tasks.sweep_exports", 60)]:
        assert scheduled[sweep] == every and sweep in app.tasks
