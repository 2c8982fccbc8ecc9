"""The worker's part of a large export (posbackoffice.tasks.run_export, swept by
posbackoffice.tasks.sweep_exports): finding the exports nobody works on, and writing a file under a
claim, with its progress."""

import datetime

from django.db.models import F, Q
from django.utils import timezone

from posbackoffice import exports, jobs
from posbackoffice.models import ExportJob

# A worker holds an export this long, extended at every progress report (every few thousand rows).
EXPORT_LEASE_SECONDS = 120
# The sweep leaves a just-queued export to its own task for this long.
EXPORT_SWEEP_GRACE = datetime.timedelta(seconds=30)
UNFINISHED = (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)


def export_jobs_due(now) -> list[int]:
    """The sweep's read: unfinished exports nobody holds (never started: their task was lost; started:
    their worker died). Those that used up their tries are failed here instead."""
    unheld = ExportJob.objects.filter(jobs.unclaimed(now), status__in=UNFINISHED,
                                      created_at__lt=now - EXPORT_SWEEP_GRACE)
    unheld.filter(tries__gte=ExportJob.MAX_TRIES).update(status=ExportJob.Status.FAILED, error="worker_lost",
                                                         finished_at=now)
    return list(unheld.filter(tries__lt=ExportJob.MAX_TRIES).order_by("created_at")
                .values_list("pk", flat=True)[:jobs.SWEEP_LIMIT])


def export_job_run(*, job_id: int) -> ExportJob:
    """Run by the worker, under a claim. Progress is committed as it goes, outside one long transaction,
    so the page can read it; a job taken again (its worker died) restarts the file from scratch."""
    claim = jobs.claim(ExportJob, job_id, seconds=EXPORT_LEASE_SECONDS,
                       due=Q(status__in=UNFINISHED, tries__lt=ExportJob.MAX_TRIES),
                       status=ExportJob.Status.RUNNING, rows_written=0, tries=F("tries") + 1)
    job = ExportJob.objects.select_related("account").get(pk=job_id)
    if claim is None:
        return job
    kind = exports.REGISTRY.get(job.kind)
    params = {k: v for k, v in job.params.items() if k != "_language"}
    language = job.params.get("_language", job.account.language)
    total = kind.count(job.account, params)
    ExportJob.objects.filter(pk=job.pk).update(total_rows=total)
    name = exports.file_name(kind, job.account)
    path = exports.export_dir(job.account_id) / f"{job.pk}-{name}"

    def progress(rows: int) -> None:
        if not claim.extend(EXPORT_LEASE_SECONDS):
            raise jobs.ClaimLost(f"export {job.pk}")
        ExportJob.objects.filter(pk=job.pk).update(rows_written=rows)

    try:
        rows = exports.write_file(kind, job.account, params, language, path, progress)
    except jobs.ClaimLost:
        job.refresh_from_db()
        return job  # this worker stalled past its lease and another one took the job over
    except Exception as error:  # the job must end in a state the page can show
        claim.release(status=ExportJob.Status.FAILED, error=str(error)[:300], finished_at=timezone.now())
        raise
    claim.release(status=ExportJob.Status.DONE, rows_written=rows, total_rows=rows, file_name=path.name,
                  finished_at=timezone.now())
    job.refresh_from_db()
    return job
