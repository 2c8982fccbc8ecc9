from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.tenancy import staff_view
from posbackoffice.views import render_section_intro


@require_GET
@staff_view("manage_billing", while_inactive=True)  # the merchant's own bill: the way back to active
def billing_settings(request):
    return render_section_intro(
        request, _("Billing"), _("Your plan, licences, invoices, and putting the account on hold.")
    )
