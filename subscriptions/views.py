from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.addons import SUBSCRIPTIONS
from accounts.tenancy import staff_view
from posbackoffice.pages import render_section_intro


@require_GET
@staff_view("manage_subscriptions", addon=SUBSCRIPTIONS)
def index(request):
    return render_section_intro(request, _("Subscriptions"), _("Plans, subscribed customers and recurring sales."))
