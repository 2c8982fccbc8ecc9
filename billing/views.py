from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.tenancy import staff_view
from billing import selectors


@require_GET
@staff_view("manage_billing", while_inactive=True)  # the merchant's own bill: the way back to active
def billing_settings(request):
    charges = selectors.platform_charges(request.account)
    return render(request, "billing/settings.html", {
        "charges": charges, "capped": len(charges) == selectors.CHARGES_SHOWN,
    })
