from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Register, TenantModel, User


class PaymentType(TenantModel):
    class Kind(models.TextChoices):
        CASH = "cash", _("Cash")
        CARD = "card", _("Credit/Debit")
        ON_ACCOUNT = "on_account", _("On account")
        CUSTOM = "custom", _("Custom")

    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(default=0)
    # A custom type that records card payments taken on a reader in standalone mode (seed 002): the card was
    # charged on the terminal, so voiding or refunding a sale paid with it gives nothing back to the card.
    records_standalone = models.BooleanField(_("records standalone card payments"), default=False)

    class Meta:
        verbose_name = _("payment type")
        verbose_name_plural = _("payment types")
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="paymenttype_unique_name"),
            # One built-in type of each system kind per account; custom types are free.
            models.UniqueConstraint(fields=["account", "kind"], condition=~Q(kind="custom"),
                                    name="paymenttype_one_per_system_kind"),
        ]
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    @property
    def is_cash(self) -> bool:
        return self.kind == self.Kind.CASH


class RegisterSession(TenantModel):
    """A register from opening (with a cash float) to closing (with counted amounts)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="sessions")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    opening_float = models.BigIntegerField(_("opening float"), default=0)
    # None: opened by an online payment (a pay link paid while the register was closed), with a zero float.
    opened_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("register session")
        verbose_name_plural = _("register sessions")
        constraints = [
            models.UniqueConstraint(fields=["register"], condition=Q(status="open"),
                                    name="one_open_session_per_register"),
        ]
        indexes = [models.Index(fields=["account", "-closed_at"], name="session_account_closed")]

    def __str__(self):
        return f"{self.register} {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def opener(self) -> str:
        """Who opened the session, as the pages say it."""
        return str(self.opened_by) if self.opened_by_id else str(_("an online payment"))


class RegisterClosureLine(TenantModel):
    """Per payment type at closing: what the sales say, what was counted, and the difference."""

    session = models.ForeignKey(RegisterSession, on_delete=models.CASCADE, related_name="closure_lines")
    payment_type = models.ForeignKey(PaymentType, on_delete=models.PROTECT, related_name="+")
    expected = models.BigIntegerField()
    counted = models.BigIntegerField()
    difference = models.BigIntegerField()

    class Meta:
        verbose_name = _("register closure line")
        verbose_name_plural = _("register closure lines")
        constraints = [models.UniqueConstraint(fields=["session", "payment_type"], name="closureline_unique")]
        ordering = ["payment_type__position", "payment_type__name"]

    def __str__(self):
        return f"{self.payment_type}: {self.counted} vs {self.expected}"
