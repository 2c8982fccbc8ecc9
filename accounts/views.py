from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import guard, selectors, services, settings_sections
from accounts.forms import (
    ActivityFilterForm,
    GeneralSettingsForm,
    LoginForm,
    MembershipRoleForm,
    OutletForm,
    QueuedPasswordResetForm,
    RegisterForm,
    StaffMemberForm,
    StaffRoleForm,
)
from accounts.models import Membership, StaffRole
from accounts.tenancy import SESSION_ACCOUNT_KEY, get_scoped_or_404, public_view, staff_view
from posbackoffice.errors import DomainError
from posbackoffice.navigation import first_page_for
from posbackoffice.pages import render_page
from posbackoffice.params import parse_id

login = public_view(auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True))
logout = public_view(auth_views.LogoutView.as_view())
password_reset = public_view(auth_views.PasswordResetView.as_view(
    form_class=QueuedPasswordResetForm, success_url=reverse_lazy("password_reset_done")
))
password_reset_done = public_view(auth_views.PasswordResetDoneView.as_view())
password_reset_confirm = public_view(auth_views.PasswordResetConfirmView.as_view(
    success_url=reverse_lazy("password_reset_complete")
))
password_reset_complete = public_view(auth_views.PasswordResetCompleteView.as_view())


def _back(request, fallback: str):
    target = request.POST.get("next") or request.headers.get("Referer") or fallback
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = fallback
    return HttpResponseRedirect(target)


@require_GET
@staff_view()
def home(request):
    page = first_page_for(request)
    if page is None:
        return render(request, "accounts/no_access.html")
    return redirect(page)


@public_view
@require_POST
def language_switch(request):
    """Language switcher: remembered on the user when signed in, in a cookie otherwise."""
    from django.conf import settings

    language = request.POST.get("language", "")
    response = _back(request, reverse("home"))
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("Unsupported language."))
        return response
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=language)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600,
                        samesite="Lax", secure=settings.LANGUAGE_COOKIE_SECURE, httponly=False)
    return response


@require_GET
@staff_view(while_inactive=True)
def account_inactive(request):
    """Where the staff pages of an account that is not active lead (accounts.guard)."""
    if request.account_active:
        return redirect("home")
    return guard.inactive_page(request)


@require_POST
@staff_view(while_inactive=True)
def account_switch(request):
    account_id = parse_id(request.POST.get("account"))
    membership = Membership.objects.filter(user=request.user, account_id=account_id).first() if account_id else None
    if membership is None:
        messages.error(request, _("You are not on the staff of that account."))
    else:
        request.session[SESSION_ACCOUNT_KEY] = membership.account_id
    return redirect("home")


@require_http_methods(["GET", "POST"])
@staff_view("manage_general_settings")
def general_settings(request):
    account = request.account
    form = GeneralSettingsForm(
        request.POST or None,
        initial={"name": account.name, "timezone": account.timezone, "language": account.language},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update_settings(
                actor=request.user, account_id=account.pk, name=form.cleaned_data["name"],
                tz=form.cleaned_data["timezone"], language=form.cleaned_data["language"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("setup:general")
    return render(request, "accounts/general_settings.html", {
        "form": form, "account": account, "sections": settings_sections.GENERAL.shown(request),
    })


@require_http_methods(["GET", "POST"])
@staff_view("manage_general_settings")
def outlets(request):
    account = request.account
    outlet_list = list(selectors.outlets_with_registers(account))
    outlet_form = OutletForm(request.POST if request.POST.get("kind") == "outlet" else None, prefix="outlet")
    register_form = RegisterForm(request.POST if request.POST.get("kind") == "register" else None,
                                 prefix="register", outlets=outlet_list)
    if request.method == "POST":
        form = outlet_form if request.POST.get("kind") == "outlet" else register_form
        if form.is_valid():
            try:
                if form is outlet_form:
                    services.outlet_create(actor=request.user, account=account, **form.cleaned_data)
                    messages.success(request, _("Outlet added."))
                else:
                    services.register_create(actor=request.user, account=account,
                                             outlet_id=form.cleaned_data["outlet"], name=form.cleaned_data["name"])
                    messages.success(request, _("Register added."))
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                return redirect("setup:outlets")
    return render(request, "accounts/outlets.html", {
        "outlets": outlet_list, "outlet_form": outlet_form, "register_form": register_form,
    })


@require_GET
@staff_view("manage_staff_roles")
def staff_roles(request):
    account = request.account
    roles = list(selectors.staff_roles(account))
    members = list(selectors.staff_members(account))
    return render(request, "accounts/staff_roles.html", {
        "roles": roles,
        "members": [(m, MembershipRoleForm(initial={"role": m.role_id}, roles=roles, prefix=f"m{m.pk}"))
                    for m in members],
        "member_form": StaffMemberForm(roles=roles),
    })


@require_http_methods(["GET", "POST"])
@staff_view("manage_staff_roles")
def staff_role_edit(request, role_id):
    account = request.account
    role = get_scoped_or_404(StaffRole, account, pk=role_id)
    form = StaffRoleForm(request.POST or None, role=role,
                         initial={"name": role.name, "permissions": sorted(role.granted())})
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_role_update(actor=request.user, account=account, role_id=role.pk,
                                       name=form.cleaned_data["name"], permissions=form.cleaned_data["permissions"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Changes to “%(role)s” saved.") % {"role": form.cleaned_data["name"]})
            return redirect("setup:staff_roles")
    return render(request, "accounts/staff_role_form.html", {"form": form, "role": role})


@require_http_methods(["GET", "POST"])
@staff_view("manage_staff_roles")
def staff_role_create(request):
    account = request.account
    form = StaffRoleForm(request.POST or None, role=None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_role_create(actor=request.user, account=account, name=form.cleaned_data["name"],
                                       permissions=form.cleaned_data["permissions"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Staff role created."))
            return redirect("setup:staff_roles")
    return render(request, "accounts/staff_role_form.html", {"form": form, "role": None})


@require_POST
@staff_view("manage_staff_roles")
def staff_member_add(request):
    account = request.account
    roles = list(selectors.staff_roles(account))
    form = StaffMemberForm(request.POST, roles=roles)
    if form.is_valid():
        try:
            services.staff_member_add(actor=request.user, account=account, email=form.cleaned_data["email"],
                                      name=form.cleaned_data["name"], role_id=form.cleaned_data["role"],
                                      password=form.cleaned_data["password"] or None)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Staff member added."))
            return redirect("setup:staff_roles")
    members = list(selectors.staff_members(account))
    return render(request, "accounts/staff_roles.html", {
        "roles": roles,
        "members": [(m, MembershipRoleForm(initial={"role": m.role_id}, roles=roles, prefix=f"m{m.pk}"))
                    for m in members],
        "member_form": form,
    }, status=400)


@require_POST
@staff_view("manage_staff_roles")
def membership_role(request, membership_id):
    account = request.account
    membership = get_scoped_or_404(Membership, account, pk=membership_id)
    roles = list(selectors.staff_roles(account))
    form = MembershipRoleForm(request.POST, roles=roles, prefix=f"m{membership.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose a staff role."))
        return redirect("setup:staff_roles")
    try:
        services.membership_change_role(actor=request.user, account=account, membership_id=membership.pk,
                                        role_id=form.cleaned_data["role"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Staff role changed."))
    return redirect("setup:staff_roles")


@require_GET
@staff_view("view_activity")
def activity(request):
    account = request.account
    form = ActivityFilterForm(request.GET or None, account=account, members=selectors.staff_users(account))
    refused = form.is_bound and not form.is_valid()
    if refused:  # a wrong filter lists nothing rather than everything
        events = selectors.activity_events(account).none()
    else:
        filters = form.cleaned_data if form.is_bound else {}
        events = selectors.activity_events(account, **{k: v for k, v in filters.items() if v})
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "rows": selectors.activity_rows(page), "query": query.urlencode(),
               "refused": refused}
    return render_page(request, "accounts/activity.html", context, status=400 if refused else 200)



# ---- the header bell ------------------------------------------------------------------------------

def _bell(request, status: int = 200):
    """The bell's inside (its button with the unread count, and the panel): polled by htmx every few
    seconds from every staff page, so a new notification appears without reloading; a full page for a
    visitor without htmx."""
    template = "shell/notifications.html" if request.htmx else "accounts/notifications.html"
    return render(request, template, selectors.bell(request.user, request.account), status=status)


@require_GET
@staff_view()
def notifications(request):
    return _bell(request)


@require_POST
@staff_view()
def notifications_read(request):
    """Mark one notification read (`notification`, its id) or, without one, all of them."""
    raw = request.POST.get("notification")
    notification_id = parse_id(raw) if raw else None
    if raw and notification_id is None:
        return _bell(request, status=400)
    services.notification_mark_read(user=request.user, account=request.account, notification_id=notification_id)
    if not request.htmx:
        return redirect("notifications")
    return _bell(request)
