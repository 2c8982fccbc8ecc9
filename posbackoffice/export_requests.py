"""Answering an export request, for every list that offers "Export CSV" (every app's): small exports
stream at once, large ones are queued for the worker and answered with their progress page
(posbackoffice.views.export_job). A plain module, not a view, so every app's views may use it."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import get_language

from posbackoffice import exports
from posbackoffice.services import export_job_start


def export_or_queue(request, kind_key: str, params: dict):
    """Answer an export request: the CSV itself when small, else a queued job's progress page. Both the
    kind's permission and "export_data" are needed (`request.permissions`, set by accounts' middleware)."""
    kind = exports.REGISTRY.get(kind_key)
    granted = getattr(request, "permissions", frozenset())
    if kind.permission not in granted or "export_data" not in granted:
        raise PermissionDenied
    if kind.count(request.account, params) <= exports.INLINE_LIMIT:
        return exports.streaming_response(kind, request.account, params, get_language())
    job = export_job_start(actor=request.user, account=request.account, kind=kind_key, params=params,
                           language=get_language())
    return redirect("export_job", job_id=job.pk)
