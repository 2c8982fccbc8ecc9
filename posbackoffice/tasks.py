"""Thin tasks of posbackoffice: ids in, a call (posbackoffice.jobs). The work lives in
posbackoffice.export_runs, apart from the module that queues it, so the two never import each other."""

from celery import shared_task
from django.utils import timezone

from posbackoffice import jobs
from posbackoffice.export_runs import export_job_run, export_jobs_due


@jobs.job_task()
def run_export(self, *job_ids: int) -> None:
    """Write export files (posbackoffice.export_runs.export_job_run), each job claimed on its own."""
    jobs.run_rows(self, job_ids, lambda pk: export_job_run(job_id=pk))


@shared_task
def sweep_exports() -> int:
    """Beat: enqueue the exports not finished that nobody works on (a lost task, a dead worker)."""
    return jobs.sweep(run_export, export_jobs_due(timezone.now()))
