"""Setup › Billing (Owner/Admin or `manage_billing`): the plan, licences, add-ons, frequency, the card on
file (at the platform's processor account), the balance and its entries, invoices and their PDF, the
platform's charges; the plans and prices page. Putting the account on hold and reactivating it are in
billing.hold_views. Open while the account is on hold: the page, the card, the invoices (the way back)."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts import addons
from accounts.guard import account_on_hold
from accounts.tenancy import get_scoped_or_404, staff_view
from billing import documents, pricing, selectors, services
from billing.features import feature_labels
from billing.ledger import balance
from billing.models import AddonPrice, Frequency, Invoice
from payments.card_entry import card_entry_context, card_entry_page_for
from payments.gateway import PLATFORM
from posbackoffice.errors import DomainError
from posbackoffice.forms import IdField
from subscriptions.services import require_integrated_payments

# What an add-on needs before it can be switched on (each raises DomainError saying why not).
ADDON_REQUIREMENTS = {addons.SUBSCRIPTIONS: require_integrated_payments}


class PlanChangeForm(forms.Form):
    plan = IdField(widget=forms.RadioSelect)
    frequency = forms.ChoiceField(choices=Frequency.choices, label=gettext_lazy("Billing frequency"))
    confirm_current = forms.BooleanField(required=False)


def _addon_rows(account, mp) -> list[dict]:
    on = addons.account_addons(account)
    prices = {price.addon: price.amount for price in
              AddonPrice.objects.filter(frequency=mp.frequency, currency=account.currency)}
    included = set(mp.plan.included_addons or ())
    return [{"addon": addon, "on": addon.code in on, "included": addon.code in included,
             "price": prices.get(addon.code)} for addon in addons.CATALOGUE]


def billing_context(request) -> dict:
    account = request.account
    mp = services.merchant_plan_for(account)
    outlets, registers = pricing.licences(account)
    charges = selectors.platform_charges(account)
    try:
        period_quote = pricing.quote(account, plan=mp.plan, frequency=mp.frequency, addons=account.addons,
                                     outlets=max(outlets, 1), registers=max(registers, 1),
                                     discount_percent=mp.discount_percent)
    except pricing.SubscriptionMismatch:
        period_quote = None
    return {
        "mp": mp, "plan_features": feature_labels(mp.plan.features), "outlets": outlets, "registers": registers,
        "quote": period_quote, "balance": balance(account), "ledger": selectors.ledger_entries(account),
        "invoices": selectors.invoices(account), "charges": charges,
        "capped": len(charges) == selectors.CHARGES_SHOWN, "addons": _addon_rows(account, mp),
        "on_hold": account_on_hold(account), "hold": services.current_hold(account),
        "plans": selectors.plans_with_prices(account.currency), "frequencies": Frequency.choices,
    }


@require_GET
@staff_view("manage_billing", while_inactive=True)  # the merchant's own bill: the way back to active
def billing_settings(request):
    return render(request, "billing/settings.html", billing_context(request))


@require_POST
@staff_view("manage_billing")
def plan_change(request):
    """Change plan or billing frequency (from the next period): features and discounts may be lost, and
    leaving a legacy plan cannot be undone (the form asks to confirm it first)."""
    form = PlanChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a plan and a billing frequency."))
        return redirect("billing:setup")
    try:
        mp = services.merchant_plan_change(actor=request.user, account=request.account,
                                           plan_id=form.cleaned_data["plan"], frequency=form.cleaned_data["frequency"],
                                           confirm_current=form.cleaned_data["confirm_current"])
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Your plan is now %(plan)s, billing frequency: %(frequency)s, from the next "
                                    "period.") % {"plan": mp.plan.name, "frequency": mp.get_frequency_display()})
    return redirect("billing:setup")


@require_POST
@staff_view("manage_billing")
def addon_switch(request):
    """Setup › Billing › Add-ons: the Owner or an Admin buys one (billed from the next period) or removes
    it. Subscriptions need our integrated payments: refused under Tyro, saying so."""
    code = request.POST.get("addon", "")
    on = request.POST.get("on") == "1"
    if code not in addons.ALL_CODES:
        messages.error(request, _("Unknown add-on."))
        return redirect("billing:setup")
    try:
        if on:
            requirement = ADDON_REQUIREMENTS.get(code)
            if requirement is not None:
                requirement(request.account)
            services.billing_addon_add(actor=request.user, account=request.account, code=code)
        else:
            services.billing_addon_remove(actor=request.user, account=request.account, code=code)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        label = addons.addon_label(code)
        messages.success(request, (_("%(addon)s is on.") if on else _("%(addon)s is off.")) % {"addon": label})
    return redirect("billing:setup")


# ---- the card on file --------------------------------------------------------------------------------

@require_GET
@staff_view("manage_billing", while_inactive=True)
@card_entry_page_for(PLATFORM)
def card_update(request):
    mp = services.merchant_plan_for(request.account)
    return render(request, "billing/card.html", {"mp": mp, **card_entry_context(PLATFORM)})


def _json_refused(message: str) -> JsonResponse:
    return JsonResponse({"status": "refused", "message": message}, status=422)


@require_POST
@staff_view("manage_billing", while_inactive=True)
def card_setup_start(request):
    try:
        secret = services.billing_card_setup_start(actor=request.user, account=request.account)
    except DomainError as refused:
        return _json_refused(refused.message)
    return JsonResponse({"status": "ready", "client_secret": secret, "finish_url": reverse("billing:card_finish")})


@require_POST
@staff_view("manage_billing", while_inactive=True)
def card_setup_finish(request):
    try:
        mp = services.billing_card_setup_finish(actor=request.user, account=request.account)
    except DomainError as refused:
        return _json_refused(refused.message)
    messages.success(request, _("%(card)s is now the card on file.") % {"card": mp.card_label})
    return JsonResponse({"status": "saved", "redirect": reverse("billing:setup")})


# ---- invoices and the plans and prices page ----------------------------------------------------------

@require_GET
@staff_view("manage_billing", while_inactive=True)
def invoice_pdf(request, invoice_id):
    invoice = get_scoped_or_404(Invoice, request.account, pk=invoice_id)
    response = HttpResponse(documents.invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{documents.invoice_filename(invoice)}"'
    return response


@require_GET
@staff_view(while_inactive=True)
def plans_prices(request):
    """Our plans and their prices, in the account's currency (current plans; the account's own plan is
    marked, legacy or not)."""
    mp = services.merchant_plan_for(request.account)
    return render(request, "billing/plans.html", {
        "plans": selectors.plans_with_prices(request.account.currency), "mp": mp,
        "currency": request.account.currency})
