from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Outlet, TenantModel
from retail.models.customers import Customer
from retail.models.sales import Sale


class Fulfilment(TenantModel):
    """An order to pack and ship: a sale's goods going to a customer's address."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PACKED = "packed", _("Packed")
        SHIPPED = "shipped", _("Shipped")
        CANCELLED = "cancelled", _("Cancelled")

    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="fulfilments")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="fulfilments")
    outlet = models.ForeignKey(Outlet, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # The address at the time of the order; later profile edits don't move a parcel.
    ship_to = models.TextField(_("ship to"))
    tracking_number = models.CharField(_("tracking number"), max_length=80, blank=True)
    source = models.CharField(max_length=40, blank=True, help_text="what created it, e.g. subscription")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fulfilment")
        verbose_name_plural = _("fulfilments")
        indexes = [models.Index(fields=["account", "status", "-created_at"], name="fulfilment_account_status")]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.sale} → {self.customer}"
