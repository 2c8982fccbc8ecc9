from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import addons
from accounts.services import account_addon_disable, account_addon_enable
from accounts.tenancy import staff_view
from billing import selectors
from posbackoffice.errors import DomainError
from subscriptions.services import require_integrated_payments

# What an add-on needs before it can be switched on (each raises DomainError saying why not).
ADDON_REQUIREMENTS = {addons.SUBSCRIPTIONS: require_integrated_payments}


@require_GET
@staff_view("manage_billing", while_inactive=True)  # the merchant's own bill: the way back to active
def billing_settings(request):
    charges = selectors.platform_charges(request.account)
    on = addons.account_addons(request.account)
    return render(request, "billing/settings.html", {
        "charges": charges, "capped": len(charges) == selectors.CHARGES_SHOWN,
        "addons": [(addon, addon.code in on) for addon in addons.CATALOGUE],
    })


@require_POST
@staff_view("manage_billing")
def addon_switch(request):
    """Setup › Billing › Add-ons: the Owner or an Admin switches one on or off (until billing prices
    them). Subscriptions need our integrated payments: refused under Tyro, saying so."""
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
            account_addon_enable(actor=request.user, account=request.account, code=code)
        else:
            account_addon_disable(actor=request.user, account=request.account, code=code)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        label = addons.addon_label(code)
        messages.success(request, (_("%(addon)s is on.") if on else _("%(addon)s is off.")) % {"addon": label})
    return redirect("billing:setup")
