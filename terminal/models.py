"""Card readers (WisePOS E, Stripe Terminal's server-driven API) and what the driver asks them to do.

- TerminalLocation: the processor's Terminal location of an outlet (readers are registered to one).
- Reader: a reader registered to an outlet and, optionally, a register (the sell screen of that register
  takes card payments on it), in integrated or standalone mode.
- ReaderAction: one thing the driver asked a reader to do — take a payment (for a sale, or a standalone
  one), ask for the standalone amount, offer the e-mail receipt — its state as the reader reports it, and
  the lease of whoever talks to the processor about it (posbackoffice.jobs). The row is the outbox: the
  driver's scheduled check finds actions whose answer is late.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Outlet, Register, TenantModel, User
from payments.models import Payment
from posbackoffice.jobs import Leased


class TerminalLocation(TenantModel):
    outlet = models.OneToOneField(Outlet, on_delete=models.PROTECT, related_name="+")
    processor = models.CharField(max_length=20)
    processor_location_id = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("terminal location")
        verbose_name_plural = _("terminal locations")

    def __str__(self):
        return self.processor_location_id


class Reader(TenantModel):
    class Mode(models.TextChoices):
        INTEGRATED = "integrated", _("Integrated mode")
        STANDALONE = "standalone", _("Standalone mode")

    location = models.ForeignKey(TerminalLocation, on_delete=models.PROTECT, related_name="readers")
    outlet = models.ForeignKey(Outlet, on_delete=models.PROTECT, related_name="+")
    register = models.ForeignKey(Register, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(_("label"), max_length=60)
    serial_number = models.CharField(max_length=40, blank=True)
    device_type = models.CharField(max_length=40, blank=True)
    processor = models.CharField(max_length=20)
    processor_reader_id = models.CharField(max_length=100)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.INTEGRATED)
    # As the processor last told us (refreshed on the list and by the driver).
    online = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("card reader")
        verbose_name_plural = _("card readers")
        ordering = ["label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["processor", "processor_reader_id"], name="reader_processor_id_once"),
            # One reader per register (the sell screen knows which to use).
            models.UniqueConstraint(fields=["register"], condition=Q(removed_at__isnull=True),
                                    name="reader_one_per_register"),
        ]

    def __str__(self):
        return self.label


class ReaderAction(TenantModel, Leased):
    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Card payment")
        AMOUNT = "amount", _("Amount entry")
        RECEIPT = "receipt", _("Receipt")
        REFUND = "refund", _("Refund with the original card")
        REFUND_RECEIPT = "refund_rec", _("Refund receipt")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Sending to the reader")
        IN_PROGRESS = "in_progress", _("On the reader")
        SUCCEEDED = "succeeded", _("Done")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Cancelled")

    OPEN = (Status.QUEUED, Status.IN_PROGRESS)

    reader = models.ForeignKey(Reader, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    failure_code = models.CharField(max_length=60, blank=True)
    # What the reader collected: the standalone amount typed (minor units), the receipt address.
    amount = models.BigIntegerField(null=True, blank=True)
    receipt_email = models.EmailField(blank=True)
    note = models.CharField(max_length=300, blank=True)  # a refund's comment
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("reader action")
        verbose_name_plural = _("reader actions")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"], name="reader_action_status")]
        constraints = [
            # One action at a time per reader: a second one is refused as busy.
            models.UniqueConstraint(fields=["reader"], condition=Q(status__in=["queued", "in_progress"]),
                                    name="reader_one_open_action"),
        ]

    def __str__(self):
        return f"{self.reader} {self.kind} {self.status}"

    def idempotency_key(self, step: str) -> str:
        return f"reader-action-{self.pk}-{step}"
