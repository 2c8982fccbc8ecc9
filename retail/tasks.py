from celery import shared_task

from retail.services.export_runs import export_job_run


@shared_task(acks_late=True)
def run_export(job_id: int) -> None:
    export_job_run(job_id=job_id)
