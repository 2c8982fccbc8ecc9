"""Setup › Integrations: the accounting integration (Xero: connect, disconnect, posting status, Post now)
and third-party apps (connect, Cancel). Post now and Cancel also answer in place (htmx) on billing's
"Before putting your account on hold" checklist, whose sections accounts registers (accounts.apps)."""

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts import integration_selectors as selectors
from accounts import integration_services as services
from accounts.accounting import get_adapter
from accounts.accounting.base import AuthorisingAdapter
from accounts.accounting.sources import SOURCES
from accounts.models import AppConnection
from accounts.tenancy import get_scoped_or_404, has_permission, staff_view
from posbackoffice.errors import DomainError
from posbackoffice.pages import REFUSED
from posbackoffice.params import parse_id

PAGE = "accounts/integrations.html"
STATE_SALT = "accounts.integrations.xero-connect"
STATE_MAX_AGE = 15 * 60


def accounting_context(request) -> dict:
    return {"connection": selectors.accounting_connection(request.account),
            "posting": selectors.posting_status(request.account),
            "may_manage": has_permission(request, services.PERMISSION)}


def apps_context(request) -> dict:
    connections = selectors.connected_apps(request.account)
    return {"connections": connections, "totals": selectors.monthly_totals(connections),
            "may_manage": has_permission(request, services.PERMISSION)}


# Open while the account is on hold, with Disconnect and Cancel: reactivation onto a plan that does not
# allow an integration in use cannot be completed until it is removed (seed 000's FAQ), and the
# reactivation page links here. Connecting and posting stay refused until the account is active.
@require_GET
@staff_view(services.PERMISSION, while_inactive=True)
def integrations(request):
    apps = apps_context(request)
    return render(request, PAGE, {
        "accounting": accounting_context(request), "apps": apps,
        "catalogue": selectors.app_catalogue(request.account, apps["connections"]),
        "adapter_name": settings.ACCOUNTING_ADAPTER,
    })


def _callback_url() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("setup:accounting_callback")


@require_POST
@staff_view(services.PERMISSION)
def accounting_connect(request):
    """With the sandbox, connects at once; with Xero, sends the merchant to Xero's consent page, which
    comes back to accounting_callback with a code and our signed state."""
    adapter = get_adapter()
    if isinstance(adapter, AuthorisingAdapter):
        state = signing.dumps({"account": request.account.pk, "user": request.user.pk}, salt=STATE_SALT)
        return redirect(adapter.authorisation_url(state=state, redirect_uri=_callback_url()))
    return _connect(request)


def _connect(request, **authorisation):
    """Connect (the sandbox at once, Xero with the code its consent page gave) and say how it went."""
    try:
        connection = services.accounting_connect(actor=request.user, account=request.account, **authorisation)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Xero is connected to %(organisation)s.")
                         % {"organisation": connection.organisation_name})
    return redirect("setup:integrations")


@require_GET
@staff_view(services.PERMISSION)
def accounting_callback(request):
    """Xero's consent page sends the merchant back here with `code` and the `state` we signed."""
    try:
        state = signing.loads(request.GET.get("state", ""), salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.BadSignature:
        state = None
    code = request.GET.get("code", "")
    if request.GET.get("error"):  # the merchant said no on Xero's page (access_denied)
        messages.error(request, _("Xero was not connected: the access was not granted on Xero's page."))
        return redirect("setup:integrations")
    if (not isinstance(state, dict) or state.get("account") != request.account.pk
            or state.get("user") != request.user.pk or not code or len(code) > 512):
        messages.error(request, _("Xero was not connected: the answer from Xero was not for this request. "
                                  "Try again."))
        return redirect("setup:integrations")
    return _connect(request, code=code, redirect_uri=_callback_url())


@require_POST
@staff_view(services.PERMISSION, while_inactive=True)
def accounting_disconnect(request):
    try:
        services.accounting_disconnect(actor=request.user, account=request.account)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Xero is disconnected. What was posted stays in Xero."))
    return redirect("setup:integrations")


def _posted_message(counts: dict[str, int]) -> str:
    parts = [f"{SOURCES.get(kind).label()}: {count}" for kind, count in counts.items() if kind in SOURCES]
    total = sum(counts.values())
    return ngettext("%(count)s item posted to Xero (%(detail)s).", "%(count)s items posted to Xero (%(detail)s).",
                    total) % {"count": total, "detail": ", ".join(parts)}


@require_POST
@staff_view(services.PERMISSION)
def accounting_post(request):
    """Post now: in place (htmx) on this page and on the hold checklist, the posting block again with the
    result; without htmx, back to this page with the result as a message."""
    status, result = 200, None
    try:
        counts = services.accounting_post_now(actor=request.user, account=request.account)
    except DomainError as refused:
        status, result = REFUSED, {"ok": False, "message": refused.message}
    else:
        result = {"ok": True, "message": _posted_message(counts)}
    if not request.htmx:
        (messages.success if result["ok"] else messages.error)(request, result["message"])
        return redirect("setup:integrations")
    return render(request, f"{PAGE}#posting", {"accounting": accounting_context(request), "result": result},
                  status=status)


@require_POST
@staff_view(services.PERMISSION)
def app_connect(request):
    app_id = parse_id(request.POST.get("app"))
    try:
        if app_id is None:
            raise DomainError(_("This app is not offered."))
        connection = services.app_connect(actor=request.user, account=request.account, app_id=app_id)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("%(app)s is connected.") % {"app": connection.app.name})
    return redirect("setup:integrations")


@require_POST
@staff_view(services.PERMISSION, while_inactive=True)
def app_cancel(request, connection_id: int):
    """Cancel: in place (htmx) on this page and on the hold checklist, the apps block again; without
    htmx, back to this page."""
    connection = get_scoped_or_404(AppConnection.objects.select_related("app"), request.account, pk=connection_id)
    result, status = None, 200
    try:
        services.app_cancel(actor=request.user, account=request.account, connection_id=connection.pk)
    except DomainError as refused:  # cancelled meanwhile (another tab)
        status, result = REFUSED, {"ok": False, "message": refused.message}
    else:
        result = {"ok": True, "message": _("%(app)s is cancelled; its monthly charge stops.")
                  % {"app": connection.app.name}}
    if not request.htmx:
        (messages.success if result["ok"] else messages.error)(request, result["message"])
        return redirect("setup:integrations")
    return render(request, f"{PAGE}#apps", {"apps": apps_context(request), "result": result}, status=status)


def hold_accounting_section(request) -> dict | None:
    """The hold checklist's accounting section: shown when Xero is connected."""
    context = accounting_context(request)
    return context if context["connection"] is not None else None


def hold_apps_section(request) -> dict | None:
    """The hold checklist's third-party apps section: shown when apps are connected."""
    context = apps_context(request)
    return context if context["connections"] else None

