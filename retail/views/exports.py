"""CSV export endpoints shared by every list: small exports stream at once, large ones go to the
worker and get a page with a progress bar and a download link."""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from accounts.tenancy import get_scoped_or_404, has_permission, staff_view
from retail import exports
from retail.models import ExportJob
from retail.services.exports import export_job_start


def export_or_queue(request, kind_key: str, params: dict):
    """Answer an export request: the CSV itself when small, else a queued job's progress page."""
    kind = exports.REGISTRY[kind_key]
    if not has_permission(request, kind.permission) or not has_permission(request, "export_data"):
        raise PermissionDenied
    if kind.count(request.account, params) <= exports.INLINE_LIMIT:
        return exports.streaming_response(kind, request.account, params, get_language())
    job = export_job_start(actor=request.user, account=request.account, kind=kind_key, params=params,
                           language=get_language())
    return redirect("retail:export_job", job_id=job.pk)


@require_GET
@staff_view("export_data")
def export_job(request, job_id):
    job = get_scoped_or_404(ExportJob, request.account, pk=job_id)
    template = "retail/export_job.html#progress" if request.htmx else "retail/export_job.html"
    return render(request, template, {"job": job})


@require_GET
@staff_view("export_data")
def export_download(request, job_id):
    job = get_scoped_or_404(ExportJob, request.account, pk=job_id)
    if job.status != ExportJob.Status.DONE:
        raise Http404
    path = exports.export_dir(job.account_id) / job.file_name
    if not path.is_file():
        raise Http404
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.file_name.split("-", 1)[1],
                        content_type="text/csv; charset=utf-8")


urlpatterns = [
    path("exports/<int:job_id>/", export_job, name="export_job"),
    path("exports/<int:job_id>/download/", export_download, name="export_download"),
]
