"""Background exports follow the job pattern (posbackoffice.jobs): a job whose task was lost or whose
worker died is found by the sweep and written from scratch; one that keeps killing its worker fails after
ExportJob.MAX_TRIES; a worker that stalled past its claim stops without touching its successor's job."""

import datetime

import pytest
import time_machine
from django.db.models import Q
from django.utils import timezone

from posbackoffice import exports, jobs
from posbackoffice.export_runs import export_job_run, export_jobs_due
from posbackoffice.models import ExportJob
from posbackoffice.services import export_job_start
from posbackoffice.tasks import sweep_exports
from tests.retail import report_factories as rf

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(account):
    shop = rf.make_shop(account)
    rf.open_register(shop)
    jam = rf.product(shop, sku="CONF-1", name="Confiture", price=333, rate_bp=550)
    for _ in range(3):
        rf.sell(shop, [(jam, 1)])
    return shop


def queued_export(shop) -> ExportJob:
    """An export queued by a request whose task never reached the broker (nothing runs on commit here)."""
    return export_job_start(actor=shop.actor, account=shop.account, kind="sales", params={}, language="fr")


def a_minute_later():
    return time_machine.travel(timezone.now() + datetime.timedelta(minutes=1))


def test_an_export_whose_task_was_lost_is_swept_and_written(shop, django_capture_on_commit_callbacks):
    job = queued_export(shop)
    assert export_jobs_due(timezone.now()) == []  # just queued: its own task has it

    with a_minute_later(), django_capture_on_commit_callbacks(execute=True):
        assert sweep_exports() == 1

    job.refresh_from_db()
    assert (job.status, job.rows_written, job.tries) == (ExportJob.Status.DONE, 3, 1)


def test_an_export_whose_worker_died_is_taken_again_once_its_claim_expires(shop):
    job = queued_export(shop)
    died = jobs.claim(ExportJob, job.pk, seconds=120, due=~Q(status="done"), status="running", tries=1)
    assert died is not None

    with a_minute_later():
        assert export_jobs_due(timezone.now()) == []  # still claimed
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        assert export_jobs_due(timezone.now()) == [job.pk]
        job = export_job_run(job_id=job.pk)

    assert (job.status, job.rows_written, job.tries) == (ExportJob.Status.DONE, 3, 2)


def test_an_export_that_keeps_killing_its_worker_fails_after_its_tries(shop):
    job = queued_export(shop)
    ExportJob.objects.filter(pk=job.pk).update(status="running", tries=ExportJob.MAX_TRIES,
                                               lease_until=timezone.now())

    with a_minute_later():
        assert export_jobs_due(timezone.now()) == []
        assert export_job_run(job_id=job.pk).status == ExportJob.Status.FAILED

    job.refresh_from_db()
    assert (job.status, job.error) == (ExportJob.Status.FAILED, "worker_lost")


def test_a_worker_that_stalled_past_its_claim_stops_and_leaves_the_job_to_its_successor(shop, monkeypatch):
    job = queued_export(shop)
    successor = []

    def stalled_then_reports(kind, account, params, language, path, progress):
        # Stalled for longer than the claim: another worker took the job meanwhile.
        with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
            successor.append(jobs.claim(ExportJob, job.pk, seconds=120, due=Q(status="running")))
            progress(5_000)
        raise AssertionError("the stalled worker went on writing")

    monkeypatch.setattr(exports, "write_file", stalled_then_reports)
    job = export_job_run(job_id=job.pk)

    assert successor[0] is not None
    assert (job.status, job.rows_written, job.lease_until) == (ExportJob.Status.RUNNING, 0, successor[0].until)
