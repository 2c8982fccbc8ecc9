"""Staff pages of pay links (seed 003): Setup › On-account sales (the setting), Finance › Payment links (the
list with its tabs, a link's details, Deactivate), and "Email receipt with pay link" from a sale's page in
the Sales history. What the sell screen and the sale's page show comes through retail's registries
(paylinks.apps)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.tenancy import get_scoped_or_404, has_permission, staff_view
from paylinks import selectors, services
from paylinks.availability import online_payments_on, settings_of, unavailable_reason
from paylinks.forms import OnAccountSettingsForm, SendForm
from paylinks.links import link_url
from paylinks.models import PayLink
from posbackoffice.errors import DomainError
from posbackoffice.keyset import cursor_arguments
from posbackoffice.pages import render_page
from retail.models import Sale
from retail.services.customers import clean_single_email


@require_http_methods(["GET", "POST"])
@staff_view("manage_payment_settings")
def on_account_settings(request):
    account = request.account
    current = settings_of(account)
    reason = unavailable_reason(account)
    status = 200
    if request.method == "POST":
        form = OnAccountSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.paylink_settings_update(
                    actor=request.user, account=account,
                    online_payments_enabled=form.cleaned_data["online_payments_enabled"],
                    reminder_days=form.cleaned_data["reminder_days"])
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("paylinks:setup")
        status = 400
    else:
        form = OnAccountSettingsForm(initial={"online_payments_enabled": current.online_payments_enabled,
                                              "reminder_days": current.reminder_days})
    if reason:
        form.fields["online_payments_enabled"].disabled = True
    return render(request, "paylinks/settings.html", {"form": form, "unavailable": reason}, status=status)


@require_GET
@staff_view("manage_payment_links")
def link_list(request):
    tab = request.GET.get("status", "")
    tab = tab if tab in selectors.TABS else ""
    page = selectors.links_page(request.account, tab or None, **cursor_arguments(request.GET))
    tabs = [("", pgettext("pay links", "All"))] + [(status, PayLink.Status(status).label) for status in selectors.TABS]
    context = {"page": page, "tab": tab, "query": f"status={tab}" if tab else "", "tabs": tabs}
    return render_page(request, "paylinks/list.html", context, status=400 if page.refused else 200)


@require_GET
@staff_view("manage_payment_links")
def link_detail(request, link_id):
    link = selectors.link_detail(request.account, link_id)
    return render(request, "paylinks/detail.html", {"link": link, "url": link_url(link),
                                                    "currency": link.currency})


@require_POST
@staff_view("manage_payment_links")
def link_deactivate(request, link_id):
    link = selectors.link_detail(request.account, link_id)
    try:
        services.pay_link_deactivate(actor=request.user, account=request.account, link_id=link.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Payment link deactivated: it no longer works."))
    if request.POST.get("back") == "detail":
        return redirect("paylinks:detail", link_id=link.pk)
    return redirect(reverse("paylinks:list") + "?status=active")


def _send_page(request, sale, form, status=200):
    return render(request, "paylinks/send.html", {
        "sale": sale, "form": form, "currency": sale.currency, "links": selectors.sale_links(request.account, sale),
    }, status=status)


@require_http_methods(["GET", "POST"])
@staff_view("sell")
def send(request, sale_id):
    """Sales history › a sale › Email receipt with pay link: check the customer's e-mail, then Email
    receipt."""
    sale = get_scoped_or_404(Sale.objects.select_related("customer"), request.account, pk=sale_id,
                             status=Sale.Status.ON_ACCOUNT)
    if request.method == "GET":
        initial = {"email": sale.customer.email if sale.customer_id else "",
                   "language": services.customer_language(request.account, sale)}
        return _send_page(request, sale, SendForm(initial=initial))
    form = SendForm(request.POST)
    if not form.is_valid():
        return _send_page(request, sale, form, status=400)
    try:
        link = services.pay_link_send(actor=request.user, account=request.account, sale_id=sale.pk,
                                      email=form.cleaned_data["email"], language=form.cleaned_data["language"])
    except DomainError as error:
        form.add_error(None, error.message)
        return _send_page(request, sale, form, status=400)
    messages.success(request, _("Receipt with pay link e-mailed to %(email)s.") % {"email": link.sent_to})
    return redirect("retail:sale_detail", sale_id=sale.pk)


# ---- what paylinks adds to retail's pages (registered in PaylinksConfig.ready) --------------------------

def sale_section(request, sale):
    """The sale's page in the Sales history: "Email receipt with pay link" for an on-account sale, and the
    sale's links."""
    if sale.status != Sale.Status.ON_ACCOUNT and not sale.pay_links.exists():
        return None
    if not online_payments_on(request.account) and not sale.pay_links.exists():
        return None
    return {"sale": sale, "can_send": sale.status == Sale.Status.ON_ACCOUNT and sale.balance_due > 0
            and online_payments_on(request.account),
            "links": selectors.sale_links(request.account, sale), "currency": sale.currency,
            "can_manage": has_permission(request, "manage_payment_links")}


def completion_option(request, sale):
    """The sell screen's on-account panel: "Email a receipt with pay link to <e-mail>", on by default; an
    invalid address or several of them: a warning that opens the customer's profile, and Complete sale
    disabled until the address is fixed or the option turned off."""
    if sale is None or sale.customer_id is None or not online_payments_on(request.account):
        return None
    email = sale.customer.email
    problem = ""
    try:
        clean_single_email(email)
    except DomainError as error:
        problem = error.message
    if not email.strip():
        problem = _("This customer has no e-mail address.")
    return {"email": email, "problem": problem, "blocks_completion": bool(problem),
            "customer_id": sale.customer_id, "can_edit": has_permission(request, "manage_customers")}
