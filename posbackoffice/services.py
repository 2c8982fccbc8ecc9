"""Queuing a large export for the worker (its run is posbackoffice.export_runs, which the task imports:
the module that queues a task never holds the work the task runs, so they do not import each other)."""

from django.db import transaction
from django.utils.translation import gettext as _

from posbackoffice import exports, jobs
from posbackoffice.audit import audit_record
from posbackoffice.errors import DomainError
from posbackoffice.models import ExportJob
from posbackoffice.tasks import run_export


@transaction.atomic
def export_job_start(*, actor, account, kind: str, params: dict, language: str) -> ExportJob:
    """Queue a large export for the worker; the page follows its progress."""
    if kind not in exports.REGISTRY:
        raise DomainError(_("Unknown export."))
    job = ExportJob.objects.create(account=account, kind=kind, params={**params, "_language": language},
                                   created_by=actor)
    audit_record(account=account, actor=actor, action="export.requested", target=job,
                 after={"kind": kind, "params": params})
    jobs.enqueue(run_export, job.pk)
    return job
