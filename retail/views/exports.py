"""A large CSV export's pages: its progress bar, then its download link (the lists answer export
requests with retail.export_requests.export_or_queue)."""

from django.http import FileResponse, Http404
from django.urls import path
from django.views.decorators.http import require_GET

from accounts.tenancy import get_scoped_or_404, staff_view
from posbackoffice.pages import render_page
from retail import exports
from retail.models import ExportJob


@require_GET
@staff_view("export_data")
def export_job(request, job_id):
    job = get_scoped_or_404(ExportJob, request.account, pk=job_id)
    return render_page(request, "retail/export_job.html", {"job": job}, partial="progress")


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
