from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.tenancy import staff_view
from posbackoffice.pages import render_section_intro


@require_GET
@staff_view("manage_payment_links")
def link_list(request):
    return render_section_intro(request, _("Payment links"), _("Pay links e-mailed to customers for on-account sales."))


@require_GET
@staff_view("manage_payment_settings")
def on_account_settings(request):
    return render_section_intro(request, _("On-account sales"), _("Pay later, and online payment by e-mailed link."))
