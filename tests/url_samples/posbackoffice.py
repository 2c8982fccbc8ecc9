from accounts.models import User
from posbackoffice import exports
from posbackoffice.models import ExportJob


def _export_job(account):
    user = User.objects.filter(memberships__account=account).first()
    job = ExportJob.objects.create(account=account, kind="sales", created_by=user, status=ExportJob.Status.DONE)
    job.file_name = f"{job.pk}-sales-2026-01-01.csv"
    job.save(update_fields=["file_name"])
    (exports.export_dir(account.pk) / job.file_name).write_text("\ufeffreceipt\r\n", encoding="utf-8")
    return {"job_id": job.pk}


SAMPLES = {
    # Public development pages: an unknown message answers 404, like everything here when DEBUG is off.
    "dev_mail_detail": lambda account: {"key": "20260101T000000000000-unknown"},
    "dev_mail_html": lambda account: {"key": "20260101T000000000000-unknown"},
    # A large export's progress page and its file.
    "export_job": _export_job,
    "export_download": _export_job,
}
