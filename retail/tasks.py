from celery import shared_task


@shared_task(acks_late=True)
def run_export(job_id: int) -> None:
    from retail.services.exports import export_job_run

    export_job_run(job_id=job_id)
