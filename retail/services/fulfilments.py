from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError
from retail.models import Customer, Fulfilment, Sale

# Which status may follow which: a parcel moves forward, or is cancelled before it leaves.
NEXT_STATUSES = {
    Fulfilment.Status.PENDING: {Fulfilment.Status.PACKED, Fulfilment.Status.CANCELLED},
    Fulfilment.Status.PACKED: {Fulfilment.Status.SHIPPED, Fulfilment.Status.PENDING, Fulfilment.Status.CANCELLED},
    Fulfilment.Status.SHIPPED: set(),
    Fulfilment.Status.CANCELLED: set(),
}


@transaction.atomic
def fulfilment_create(*, actor, account, sale_id: int, source: str = "") -> Fulfilment:
    sale = scoped(Sale, account).select_for_update().get(pk=sale_id)
    if sale.status not in (Sale.Status.COMPLETED, Sale.Status.ON_ACCOUNT):
        raise DomainError(_("Only completed sales can be shipped."))
    if sale.customer_id is None:
        raise DomainError(_("The sale has no customer to ship to."))
    customer = Customer.objects.get(pk=sale.customer_id)
    if not (customer.address_line1 and customer.city):
        raise DomainError(_("%(customer)s has no postal address.") % {"customer": customer})
    ship_to = "\n".join(part for part in (str(customer), customer.postal_address) if part)
    fulfilment = Fulfilment.objects.create(account=account, sale=sale, customer=customer, outlet_id=sale.outlet_id,
                                           ship_to=ship_to, source=source)
    audit_record(account=account, actor=actor, action="fulfilment.created", target=fulfilment,
                 after={"sale": sale.pk, "status": fulfilment.status, "source": source})
    return fulfilment


@transaction.atomic
def fulfilment_set_status(*, actor, account, fulfilment_id: int, status: str, tracking_number: str = "") -> Fulfilment:
    fulfilment = scoped(Fulfilment, account).select_for_update().get(pk=fulfilment_id)
    if status not in NEXT_STATUSES.get(fulfilment.status, set()):
        raise DomainError(_("A %(from)s order cannot become %(to)s.") % {
            "from": fulfilment.get_status_display().lower(),
            "to": Fulfilment.Status(status).label.lower() if status in Fulfilment.Status.values else status,
        })
    before = {"status": fulfilment.status, "tracking_number": fulfilment.tracking_number}
    fulfilment.status = status
    if tracking_number.strip():
        fulfilment.tracking_number = tracking_number.strip()
    fulfilment.updated_at = timezone.now()
    fulfilment.save(update_fields=["status", "tracking_number", "updated_at"])
    audit_record(account=account, actor=actor, action="fulfilment.status_changed", target=fulfilment,
                 before=before, after={"status": status, "tracking_number": fulfilment.tracking_number})
    return fulfilment
