"""Subscriptions (seed 001): Manage plans, Subscribe a customer, Settings. Manage subscriptions (the
list, a subscription's page and its payments) is in subscriptions.manage_views."""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.addons import SUBSCRIPTIONS
from accounts.models import Register
from accounts.tenancy import get_scoped_or_404, has_permission, scoped, staff_view
from posbackoffice.errors import DomainError
from posbackoffice.params import clean_text, parse_id
from retail.models import Customer, Product
from saved_cards import invites
from saved_cards.models import CardInvite
from subscriptions import billing, periods, selectors, services
from subscriptions.forms import PlanForm, SettingsForm, SubscribeForm
from subscriptions.models import Plan

manage = staff_view("manage_subscriptions", addon=SUBSCRIPTIONS)


@require_GET
@manage
def index(request):
    return redirect("subscriptions:list")


# ---- Manage plans -----------------------------------------------------------------------------------

@require_GET
@manage
def plans(request):
    archived = request.GET.get("archived") == "1"
    return render(request, "subscriptions/plans.html", {
        "plans": selectors.plans(request.account, archived=archived), "archived": archived,
        "currency": request.account.currency})


def _plan_lines_for_form(account, lines) -> list[dict]:
    products = {p.pk: p for p in scoped(Product, account).filter(pk__in=[line[0] for line in lines])}
    return [{"product": products[product_id], "quantity": quantity, "price": price}
            for product_id, quantity, price in lines if product_id in products]


def _plan_page(request, plan: Plan | None):
    account = request.account
    if request.method == "POST":
        form = PlanForm(request.POST, currency=account.currency)
        valid = form.is_valid()
        form.read_lines(request.POST)
        if valid and not form.non_field_errors():
            try:
                if plan is None:
                    plan = services.plan_create(actor=request.user, account=account, **form.service_arguments())
                    messages.success(request, _("Plan “%(name)s” created.") % {"name": plan.name})
                else:
                    plan = services.plan_update(actor=request.user, account=account, plan_id=plan.pk,
                                                **form.service_arguments())
                    messages.success(request, _("Plan “%(name)s” saved. The change applies to future cycles.")
                                     % {"name": plan.name})
                return redirect("subscriptions:plans")
            except DomainError as refused:
                form.add_error(None, refused.message)
        lines = _plan_lines_for_form(account, form.lines)
        status = 400
    else:
        initial = {}
        lines = []
        if plan is not None:
            initial = {"name": plan.name, "interval": plan.interval, "ships": plan.ships,
                       "has_customer_type": plan.customer_type_id is not None,
                       "customer_type_name": plan.customer_type.name if plan.customer_type else "",
                       "duration": "fixed" if plan.duration_intervals else "open",
                       "duration_intervals": plan.duration_intervals,
                       "renewal_reminder_days": plan.renewal_reminder_days}
            lines = [{"product": line.product, "quantity": line.quantity, "price": line.recurring_price}
                     for line in plan.lines.select_related("product")]
        form = PlanForm(initial=initial, currency=account.currency)
        status = 200
    return render(request, "subscriptions/plan_form.html", {
        "form": form, "plan": plan, "lines": lines, "currency": account.currency}, status=status)


@require_http_methods(["GET", "POST"])
@manage
def plan_create(request):
    return _plan_page(request, None)


@require_http_methods(["GET", "POST"])
@manage
def plan_edit(request, plan_id):
    plan = get_scoped_or_404(Plan.objects.select_related("customer_type"), request.account, pk=plan_id)
    return _plan_page(request, plan)


@require_POST
@manage
def plan_archive(request, plan_id):
    plan = get_scoped_or_404(Plan, request.account, pk=plan_id)
    try:
        services.plan_archive(actor=request.user, account=request.account, plan_id=plan.pk)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Plan “%(name)s” archived: existing subscriptions go on, no one new can "
                                    "subscribe.") % {"name": plan.name})
    return redirect("subscriptions:plans")


@require_GET
@manage
def plan_products(request):
    """Add product: the catalogue search's results (htmx), or one new line of the plan (`add`)."""
    added = parse_id(request.GET.get("add"))
    if added is not None:
        product = get_scoped_or_404(Product, request.account, pk=added, is_active=True)
        return render(request, "subscriptions/plan_line.html", {
            "line": {"product": product, "quantity": 1, "price": None}, "currency": request.account.currency})
    query = clean_text(request.GET.get("q"), 100)
    return render(request, "subscriptions/product_results.html", {
        "products": selectors.product_search(request.account, query), "query": query,
        "currency": request.account.currency})


# ---- Subscribe a customer ---------------------------------------------------------------------------

def _subscribe_url(**params) -> str:
    params = {key: value for key, value in params.items() if value not in (None, "")}
    return f"{reverse('subscriptions:subscribe')}?{urlencode(params)}" if params else reverse("subscriptions:subscribe")


@require_http_methods(["GET", "POST"])
@manage
def subscribe(request):
    """One page, in the seed's order: Add customer (search, pick), Plan (autocomplete), start now or
    later, the outlet's register, the payment method (a saved card, or Add credit card: manual entry or
    the QR invitation, both coming back here), Subscribe."""
    account = request.account
    data = request.POST if request.method == "POST" else request.GET
    customer_id = parse_id(data.get("customer"))
    customer = get_scoped_or_404(Customer, account, pk=customer_id) if customer_id else None
    query = clean_text(request.GET.get("q"), 100)
    today = periods.shop_today(account, timezone.now())
    available_plans = list(selectors.plans(account))
    form = SubscribeForm(data if request.method == "POST" else None, initial={
        "customer": customer_id, "plan_name": clean_text(data.get("plan_name"), 120),
        "start": data.get("start") if data.get("start") in ("now", "later") else "now",
        "start_date": clean_text(data.get("start_date"), 10), "register": parse_id(data.get("register")),
        "card": parse_id(data.get("card"))})
    keep = {"customer": customer_id, "plan_name": clean_text(form["plan_name"].value(), 120),
            "start": form["start"].value(), "start_date": clean_text(form["start_date"].value(), 10),
            "register": parse_id(form["register"].value())}
    back = _subscribe_url(**keep)
    add_card = data.get("add_card") if request.method == "POST" and customer is not None else None
    if add_card in ("enter", "invite"):
        # Add credit card, from inside the form: what was filled (plan, start, register) comes back with
        # "Card added" → Continue.
        refused = _add_card(request, customer, add_card, back)
        if not isinstance(refused, DomainError):
            return refused
        form = SubscribeForm(None, initial=form.initial)
        form.add_error(None, refused.message)
    status = 200
    if request.method == "POST" and add_card is None and form.is_valid():
        result = _subscribe_from(request, form, available_plans)
        if not isinstance(result, DomainError):
            return result
        form.add_error(None, result.message)
    if request.method == "POST":
        status = 400
    plan = next((p for p in available_plans if p.name == (form["plan_name"].value() or "")), None)
    registers = scoped(Register, account).select_related("outlet").order_by("outlet__name", "name")
    return render(request, "subscriptions/subscribe.html", {
        "form": form, "customer": customer, "query": query, "today": today,
        "results": selectors.customer_search(account, query) if query and customer is None else [],
        "plans": available_plans, "plan": plan, "registers": registers,
        "cards": selectors.usable_cards(account, customer, today) if customer else [],
        "missing": services.missing_profile(customer, plan) if customer else [],
        "back": back, "keep": keep,
    }, status=status)


def _add_card(request, customer, how: str, back: str):
    """Enter the card details (saved_cards' page), or a QR invitation made now; both come back to `back`."""
    if how == "enter":
        return redirect(f"{reverse('saved_cards:add', args=[customer.pk])}?{urlencode({'next': back})}")
    if not has_permission(request, "add_saved_payment_method"):
        return DomainError(_("You may not add cards for customers."))
    try:
        invite = invites.card_invite_create(actor=request.user, account=request.account, customer_id=customer.pk,
                                            kind=CardInvite.Kind.QR)
    except DomainError as refused:
        return refused
    url = reverse("saved_cards:invite", kwargs={"customer_id": customer.pk, "invite_id": invite.pk})
    return redirect(f"{url}?{urlencode({'next': back})}")


def _subscribe_from(request, form, available_plans):
    """Subscribe, then (starting today) charge the first cycle at once; a DomainError is returned for the
    form to show."""
    data = form.cleaned_data
    account = request.account
    plan = next((p for p in available_plans if p.name == data["plan_name"].strip()), None)
    if plan is None:
        return DomainError(_("Choose a plan from the suggestions."))
    start_date = data["start_date"] if data["start"] == "later" else None
    try:
        sub = services.subscription_create(actor=request.user, account=account, customer_id=data["customer"],
                                           plan_id=plan.pk, card_id=data["card"], register_id=data["register"],
                                           start_date=start_date)
    except DomainError as refused:
        return refused
    except Customer.DoesNotExist:
        return DomainError(_("Choose a customer."))
    if start_date is None:
        payment = billing.bill(sub.pk)
        if payment is not None and payment.status == "failed":
            messages.warning(request, _("%(customer)s is subscribed, but the first payment failed: the subscription "
                                        "is overdue and will be retried.") % {"customer": sub.customer})
            return redirect("subscriptions:detail", subscription_id=sub.pk)
    messages.success(request, _("%(customer)s is subscribed to %(plan)s.") % {"customer": sub.customer,
                                                                                "plan": plan.name})
    return redirect("subscriptions:detail", subscription_id=sub.pk)


# ---- Dashboard (beyond the seed) ---------------------------------------------------------------------

@require_GET
@manage
def dashboard(request):
    from retail.selectors.report_chart import net_sales_chart

    figures = selectors.dashboard(request.account, timezone.now())
    return render(request, "subscriptions/dashboard.html", {
        "figures": figures, "chart": net_sales_chart(figures.months), "currency": request.account.currency})


# ---- Settings ---------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@manage
def settings(request):
    current = services.settings_of(request.account)
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            services.settings_update(actor=request.user, account=request.account, **form.cleaned_data)
            messages.success(request, _("Subscription settings saved."))
            return redirect("subscriptions:settings")
    else:
        form = SettingsForm(initial={"send_confirmation": current.send_confirmation,
                                     "use_backup_card": current.use_backup_card})
    return render(request, "subscriptions/settings.html", {"form": form})
