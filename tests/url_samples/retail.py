from accounts.models import User
from retail import exports
from retail.models import ExportJob


def _export_job(account):
    user = User.objects.filter(memberships__account=account).first()
    job = ExportJob.objects.create(account=account, kind="sales", created_by=user, status=ExportJob.Status.DONE)
    job.file_name = f"{job.pk}-sales-2026-01-01.csv"
    job.save(update_fields=["file_name"])
    (exports.export_dir(account.pk) / job.file_name).write_text("\ufeffreceipt\r\n", encoding="utf-8")
    return {"job_id": job.pk}


SAMPLES = {
    "retail:export_job": _export_job,
    "retail:export_download": _export_job,
}
