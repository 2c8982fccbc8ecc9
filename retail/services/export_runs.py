"""The worker's part of a large export (retail.tasks.run_export): writing the file, with its progress."""

from django.utils import timezone

from retail import exports
from retail.models import ExportJob


def export_job_run(*, job_id: int) -> ExportJob:
    """Run by the worker. Progress is committed as it goes, outside one long transaction, so the
    page can read it; a re-delivered task restarts the file from scratch."""
    updated = ExportJob.objects.filter(pk=job_id, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]) \
        .update(status=ExportJob.Status.RUNNING, rows_written=0)
    job = ExportJob.objects.select_related("account").get(pk=job_id)
    if not updated:
        return job
    kind = exports.REGISTRY.get(job.kind)
    params = {k: v for k, v in job.params.items() if k != "_language"}
    language = job.params.get("_language", job.account.language)
    total = kind.count(job.account, params)
    ExportJob.objects.filter(pk=job.pk).update(total_rows=total)
    name = exports.file_name(kind, job.account)
    path = exports.export_dir(job.account_id) / f"{job.pk}-{name}"

    def progress(rows: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_written=rows)

    try:
        rows = exports.write_file(kind, job.account, params, language, path, progress)
    except Exception as error:  # the job must end in a state the page can show
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, error=str(error)[:300],
                                                   finished_at=timezone.now())
        raise
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.DONE, rows_written=rows, total_rows=rows,
                                               file_name=path.name, finished_at=timezone.now())
    job.refresh_from_db()
    return job
