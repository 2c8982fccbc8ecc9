from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.tenancy import get_scoped_or_404, public_view, staff_view
from posbackoffice import exports, outbox
from posbackoffice.log import log_refusal
from posbackoffice.models import ExportJob
from posbackoffice.pages import render_page

# ---- a large CSV export: its progress bar, then its download link (posbackoffice.export_requests) ----

@require_GET
@staff_view("export_data")
def export_job(request, job_id):
    job = get_scoped_or_404(ExportJob, request.account, pk=job_id)
    return render_page(request, "exports/job.html", {"job": job}, partial="progress")


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


# ---- development pages and error pages ------------------------------------------------------------------


@public_view
@require_GET
def dev_mail_list(request):
    if not settings.DEBUG or settings.EMAIL_OUTBOX_DIR is None:
        raise Http404
    return render(request, "dev/mail_list.html", {"messages_sent": outbox.list_messages()})


@public_view
@require_GET
def dev_mail_detail(request, key):
    if not settings.DEBUG or settings.EMAIL_OUTBOX_DIR is None:
        raise Http404
    message = outbox.get_message(key)
    if message is None:
        raise Http404
    return render(request, "dev/mail_detail.html", {"message": message})


@public_view
@require_GET
def dev_mail_html(request, key):
    """The HTML part on its own, shown in a sandboxed frame of the detail page."""
    if not settings.DEBUG or settings.EMAIL_OUTBOX_DIR is None:
        raise Http404
    message = outbox.get_message(key)
    if message is None or not message.html:
        raise Http404
    response = HttpResponse(message.html)
    response["Content-Security-Policy"] = "default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; sandbox"
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def permission_denied(request, exception=None):
    reason = str(exception) if exception else ""
    log_refusal(request, reason)
    return render(request, "403.html", {"reason": reason}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
