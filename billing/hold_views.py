"""Putting the account on hold and reactivating it (seed 000), from Setup › Billing:

- "Before putting your account on hold": a link starting each export the seed lists, with its progress
  (posbackoffice's ExportJob), then the sections other apps register (accounts.hold_hooks.CHECKLIST_SECTIONS:
  the accounting integration's unposted items, third-party apps). Nothing there blocks the hold;
- "Suspend my account": the estimated reactivation (N months or "I don't know"), the read-only option,
  "Put my data on hold", then what stops and the warning about current plans, "Put my account on hold";
- "Reactivate my account": the recommended current plan (closest to the old one) with add-ons to match,
  licences (read-only), add-ons (the trash icon removes one), frequency, "Confirm payment details", the
  review and "Pay and activate".
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import addons as addon_catalogue
from accounts import hold_hooks
from accounts.guard import account_on_hold
from accounts.tenancy import scoped, staff_view
from billing import invoices, pricing, selectors, services
from billing.features import feature_labels
from billing.ledger import balance
from billing.models import Frequency, Invoice, Plan
from posbackoffice import exports
from posbackoffice.errors import DomainError
from posbackoffice.forms import IdField, WholeNumberField
from posbackoffice.models import ExportJob
from posbackoffice.pages import render_page
from posbackoffice.params import parse_id
from posbackoffice.services import export_job_start

# The exports the seed asks for before a hold, in its order: (export kind, label, where it is in the menu).
CHECKLIST_EXPORTS = [
    ("sales", gettext_lazy("Sales history"), gettext_lazy("Sell › Sales history")),
    ("products", gettext_lazy("Products"), gettext_lazy("Products")),
    ("customers", gettext_lazy("Customers"), gettext_lazy("Customers")),
    ("report_register_closures", gettext_lazy("Register closures"), gettext_lazy("Reports › Register closures")),
    ("report_sales_by_day", gettext_lazy("Sales report"), gettext_lazy("Reports › Sales reports")),
    ("report_taxes", gettext_lazy("Tax report"), gettext_lazy("Reports › Tax reports")),
    ("report_gift_cards", gettext_lazy("Gift cards report"), gettext_lazy("Reports")),
    ("report_store_credit", gettext_lazy("Store credit report"), gettext_lazy("Reports")),
]
CHECKLIST_KINDS = {kind for kind, _label, _where in CHECKLIST_EXPORTS}


# ---- the checklist -----------------------------------------------------------------------------------

def _export_rows(request) -> list[dict]:
    latest = {}
    for job in scoped(ExportJob, request.account).filter(kind__in=CHECKLIST_KINDS).order_by("created_at", "pk"):
        latest[job.kind] = job
    granted = request.permissions
    return [{"kind": kind, "label": label, "where": where, "job": latest.get(kind),
             "allowed": exports.REGISTRY.get(kind).permission in granted and "export_data" in granted}
            for kind, label, where in CHECKLIST_EXPORTS]


@require_GET
@staff_view("manage_billing")
def hold_checklist(request):
    rows = _export_rows(request)
    running = any(row["job"] and row["job"].status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)
                  for row in rows)
    return render_page(request, "billing/hold_checklist.html", {
        "exports": rows, "running": running, "sections": hold_hooks.CHECKLIST_SECTIONS.shown(request),
    }, partial="exports")


@require_POST
@staff_view("manage_billing")
def hold_export(request):
    """Start one of the checklist's exports (written by the worker, whatever its size, so the checklist
    follows its progress). The export's own permission and "export_data" are needed, as on its page."""
    kind = request.POST.get("kind", "")
    if kind not in CHECKLIST_KINDS:
        messages.error(request, _("Unknown export."))
        return redirect("billing:hold_checklist")
    granted = request.permissions
    if exports.REGISTRY.get(kind).permission not in granted or "export_data" not in granted:
        raise PermissionDenied(_("Your staff role does not allow this."))
    try:
        export_job_start(actor=request.user, account=request.account, kind=kind, params={},
                         language=request.LANGUAGE_CODE)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("The export has started; it is listed below with its progress."))
    return redirect("billing:hold_checklist")


# ---- suspend my account --------------------------------------------------------------------------------

class SuspendForm(forms.Form):
    months = WholeNumberField(min_value=1, max_value=services.MAX_HOLD_MONTHS, required=False,
                              label=gettext_lazy("Estimated reactivation in (months)"))
    dont_know = forms.BooleanField(required=False, label=gettext_lazy("I don't know"))
    read_only = forms.BooleanField(required=False, label=gettext_lazy(
        "Keep my reports and exports readable while the account is on hold"))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned.get("dont_know"):
            cleaned["months"] = None
        elif cleaned.get("months") is None:
            raise forms.ValidationError(_("Enter the number of months until you reactivate, or choose "
                                          "“I don't know”."))
        return cleaned


STOPS = [
    gettext_lazy("Subscription billing of your customers: no cycle is charged, none is charged later for "
                 "the hold."),
    gettext_lazy("Payment links: your customers see that the shop is not taking payments online."),
    gettext_lazy("Card terminals and card payments."),
    gettext_lazy("E-mails to your customers (receipts, reminders)."),
    gettext_lazy("Access to the back office, except Setup › Billing."),
]


@require_http_methods(["GET", "POST"])
@staff_view("manage_billing")
def suspend(request):
    """Step 1 ("Put my data on hold"): how long, read-only or not. Step 2 ("Put my account on hold"):
    what stops, the warning about current plans, then the hold itself."""
    if request.method == "GET":
        return render(request, "billing/suspend.html", {"form": SuspendForm(), "step": "data"})
    form = SuspendForm(request.POST)
    if not form.is_valid():
        return render(request, "billing/suspend.html", {"form": form, "step": "data"}, status=422)
    months, read_only = form.cleaned_data["months"], form.cleaned_data["read_only"]
    if request.POST.get("step") != "hold":
        mp = services.merchant_plan_for(request.account)
        return render(request, "billing/suspend.html", {
            "form": form, "step": "confirm", "months": months, "read_only": read_only, "stops": STOPS, "mp": mp,
            "fee": pricing.hold_fee(request.account), "currency": request.account.currency,
            "integrations": hold_hooks.integrations_in_use(request.account)})
    try:
        services.account_hold_start(actor=request.user, account=request.account, months=months, read_only=read_only)
    except DomainError as refused:
        messages.error(request, refused.message)
        return redirect("billing:setup")
    messages.success(request, _("Your account is on hold. Your data is kept until you reactivate it."))
    return redirect("billing:setup")


# ---- reactivate my account -----------------------------------------------------------------------------

class PayForm(forms.Form):
    plan = IdField()
    frequency = forms.ChoiceField(choices=Frequency.choices)
    addons = forms.MultipleChoiceField(choices=[(code, code) for code in sorted(addon_catalogue.ALL_CODES)],
                                       required=False)


def _choice(request, hold, recommended: Plan, recommended_addons: list[str]) -> tuple[Plan, str, list[str], str]:
    """The plan, frequency and add-ons the page shows, from its query (a forged value falls back to the
    recommendation, saying so)."""
    problem = ""
    plan = recommended
    if "plan" in request.GET:
        wanted = parse_id(request.GET.get("plan"))
        found = Plan.objects.filter(pk=wanted, legacy=False).first() if wanted is not None else None
        if found is None:
            problem = _("This plan is not available. The recommended plan is selected.")
        else:
            plan = found
    frequency = request.GET.get("frequency") or hold.frequency
    if frequency not in Frequency.values:
        frequency, problem = hold.frequency, _("Choose monthly or yearly billing.")
    removed = set(request.GET.getlist("removed"))
    chosen = [code for code in recommended_addons if code not in removed]
    chosen = [code for code in chosen if code not in set(plan.included_addons or ())]
    return plan, frequency, chosen, problem


def reactivation_context(request) -> dict | None:
    account = request.account
    hold = services.current_hold(account)
    if hold is None:
        return None
    recommended, recommended_addons = pricing.closest_current_plan(hold.plan, hold.addons)
    plan, frequency, chosen_addons, problem = _choice(request, hold, recommended, recommended_addons)
    outlets, registers = pricing.licences(account)
    quote, mismatch = None, ""
    try:
        quote = pricing.quote(account, plan=plan, frequency=frequency, addons=chosen_addons, outlets=outlets,
                              registers=registers)
    except pricing.SubscriptionMismatch as refused:
        mismatch = refused.message
    mp = services.merchant_plan_for(account)
    credit = balance(account)
    from_balance = min(max(credit, 0), quote.total) if quote else 0
    removed = [code for code in recommended_addons if code not in chosen_addons
               and code not in set(plan.included_addons or ())]
    had_subscriptions = addon_catalogue.SUBSCRIPTIONS in (set(hold.addons or ()) | set(hold.plan.included_addons or ()))
    keeps_subscriptions = addon_catalogue.SUBSCRIPTIONS in (set(chosen_addons) | set(plan.included_addons or ()))
    return {
        "hold": hold, "old_plan": hold.plan, "old_features": feature_labels(hold.plan.features),
        "old_addons": [addon_catalogue.addon_label(code) for code in hold.addons or ()
                       if code in addon_catalogue.ALL_CODES],
        "recommended": recommended, "plan": plan, "frequency": frequency, "frequencies": Frequency.choices,
        "addons": [{"code": code, "label": addon_catalogue.addon_label(code)} for code in chosen_addons],
        "removed": removed, "chosen_addons": chosen_addons,
        "outlets": outlets, "registers": registers, "quote": quote, "mismatch": mismatch, "problem": problem,
        "lost": pricing.lost_features(hold.plan, hold.addons, plan, chosen_addons),
        "blocked": services.blocked_integrations(account, plan), "mp": mp, "balance": credit,
        "from_balance": from_balance, "card_amount": (quote.total - from_balance) if quote else 0,
        "plans": selectors.plans_with_prices(account.currency), "currency": account.currency,
        "change": request.GET.get("change") == "1", "review": request.GET.get("step") == "review",
        "pauses_subscriptions": had_subscriptions and not keeps_subscriptions,
        "failed": scoped(Invoice, account).filter(kind=Invoice.Kind.REACTIVATION, status=Invoice.Status.FAILED,
                                                  created_at__gte=hold.started_at).exists(),
    }


@require_GET
@staff_view("manage_billing", while_inactive=True)
def reactivate(request):
    if not account_on_hold(request.account):
        messages.info(request, _("This account is active: there is nothing to reactivate."))
        return redirect("billing:setup")
    context = reactivation_context(request)
    if context is None:
        messages.error(request, _("This account was not put on hold from Setup › Billing. Contact your account "
                                  "manager."))
        return redirect("billing:setup")
    return render(request, "billing/reactivate.html", context)


@require_POST
@staff_view("manage_billing", while_inactive=True)
def reactivate_pay(request):
    """"Pay and activate": the invoice (balance first), then the card; on success the account is active."""
    form = PayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the current plans, a billing frequency and your add-ons again."))
        return redirect("billing:reactivate")
    data = form.cleaned_data
    back = redirect(f"{reverse('billing:reactivate')}?plan={data['plan']}&frequency={data['frequency']}")
    try:
        invoice = services.reactivation_start(actor=request.user, account=request.account, plan_id=data["plan"],
                                              frequency=data["frequency"], addons=data["addons"])
    except DomainError as refused:
        messages.error(request, refused.message)
        return back
    invoice = invoices.invoice_charge(invoice.pk)
    if invoice.status == Invoice.Status.PAID:
        messages.success(request, _("Your account is active again. Welcome back!"))
        return redirect("billing:setup")
    if invoice.status == Invoice.Status.FAILED:
        messages.error(request, _("Your payment failed, and your account was not reactivated. Go to Setup › Billing "
                                  "to update your card, then follow the reactivation steps again."))
        return back
    messages.info(request, _("Your payment is being processed. Reload this page in a moment."))
    return back
