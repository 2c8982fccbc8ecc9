"""Thin tasks of retail: ids in, a service call (posbackoffice.jobs)."""

from celery import shared_task
from django.utils import timezone

from posbackoffice import jobs


@jobs.job_task()
def run_export(self, *job_ids: int) -> None:
    """Write export files (retail.services.exports.export_job_run), each job claimed on its own."""
    from retail.services.exports import export_job_run

    jobs.run_rows(self, job_ids, lambda pk: export_job_run(job_id=pk))


@shared_task
def sweep_exports() -> int:
    """Beat: enqueue the exports not finished that nobody works on (a lost task, a dead worker)."""
    from retail.services.exports import export_jobs_due

    return jobs.sweep(run_export, export_jobs_due(timezone.now()))
