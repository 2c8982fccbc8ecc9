"""Answering an export request, for every list that offers "Export CSV" (retail's and other apps'):
small exports stream at once, large ones are queued for the worker and answered with their progress
page (retail.views.exports). A plain module, not a view, so other apps' views may use it."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import get_language

from accounts.tenancy import has_permission
from retail import exports
from retail.services.exports import export_job_start


def export_or_queue(request, kind_key: str, params: dict):
    """Answer an export request: the CSV itself when small, else a queued job's progress page."""
    kind = exports.REGISTRY.get(kind_key)
    if not has_permission(request, kind.permission) or not has_permission(request, "export_data"):
        raise PermissionDenied
    if kind.count(request.account, params) <= exports.INLINE_LIMIT:
        return exports.streaming_response(kind, request.account, params, get_language())
    job = export_job_start(actor=request.user, account=request.account, kind=kind_key, params=params,
                           language=get_language())
    return redirect("retail:export_job", job_id=job.pk)
