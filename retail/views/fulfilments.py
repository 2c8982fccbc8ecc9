"""Inventory › Fulfilments: orders to pack and ship, filtered by status, moved forward one step at a
time (pending → packed → shipped, or cancelled before leaving)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.tenancy import get_scoped_or_404, scoped, staff_view
from posbackoffice.errors import DomainError
from posbackoffice.params import clean_text
from retail.models import Fulfilment
from retail.services.fulfilments import NEXT_STATUSES, fulfilment_set_status

PAGE_SIZE = 50
# The step buttons, in the order they appear on a row.
STEP_ORDER = [Fulfilment.Status.PACKED, Fulfilment.Status.SHIPPED, Fulfilment.Status.PENDING,
              Fulfilment.Status.CANCELLED]
STEP_LABELS = {
    Fulfilment.Status.PACKED: gettext_lazy("Mark packed"),
    Fulfilment.Status.SHIPPED: gettext_lazy("Mark shipped"),
    Fulfilment.Status.PENDING: gettext_lazy("Back to pending"),
    Fulfilment.Status.CANCELLED: gettext_lazy("Cancel"),
}


def _status_filter(request) -> str:
    status = request.GET.get("status", "open")
    return status if status in ("open", "all", *Fulfilment.Status.values) else "open"


@require_GET
@staff_view("manage_fulfilments")
def fulfilments(request):
    status = _status_filter(request)
    orders = scoped(Fulfilment, request.account).select_related("sale", "customer", "outlet")
    if status == "open":
        orders = orders.filter(status__in=[Fulfilment.Status.PENDING, Fulfilment.Status.PACKED])
    elif status != "all":
        orders = orders.filter(status=status)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(order, [(step, STEP_LABELS[step]) for step in STEP_ORDER if step in NEXT_STATUSES[order.status]])
            for order in page]
    tabs = [("open", _("To do")), *Fulfilment.Status.choices, ("all", _("All"))]
    return render(request, "retail/fulfilments/list.html", {
        "page": page, "rows": rows, "status": status, "tabs": tabs, "query": f"status={status}",
    })


@require_POST
@staff_view("manage_fulfilments")
def fulfilment_status(request, fulfilment_id):
    fulfilment = get_scoped_or_404(Fulfilment, request.account, pk=fulfilment_id)
    try:
        fulfilment_set_status(actor=request.user, account=request.account, fulfilment_id=fulfilment.pk,
                              status=request.POST.get("status", ""),
                              tracking_number=clean_text(request.POST.get("tracking_number"), 80))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        fulfilment.refresh_from_db()
        messages.success(request, _("Order for %(customer)s: %(status)s.") % {
            "customer": fulfilment.customer, "status": fulfilment.get_status_display()})
    back = request.POST.get("back", "open")
    tab = back if back in ("open", "all", *Fulfilment.Status.values) else "open"
    return redirect(f"{reverse('retail:fulfilments')}?status={tab}")


urlpatterns = [
    path("inventory/fulfillments/", fulfilments, name="fulfilments"),
    path("inventory/fulfillments/<int:fulfilment_id>/status/", fulfilment_status, name="fulfilment_status"),
]
