"""Pay links (seed 003): a customer pays an on-account sale online from a link e-mailed with its receipt.

`PayLinkSettings` is Setup › On-account ("Enable online payments", reminders); `PayLink` is one link: the
amount it asks (the sale's balance when it was sent), who it went to, its status and the payment that paid
it. A link lives until it is paid, deactivated on Finance › Payment links, or replaced by sending the sale's
receipt with a link again (seed 003): links do not expire."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import TenantModel, User
from posbackoffice.jobs import Leased
from posbackoffice.money import format_money

MAX_REMINDERS = 3


class PayLinkSettings(TenantModel):
    online_payments_enabled = models.BooleanField(_("enable online payments"), default=False)
    # Remind the customer of an unpaid link after this many days (and again each time, at most
    # MAX_REMINDERS times); empty: no reminders (the default).
    reminder_days = models.PositiveSmallIntegerField(_("reminder after (days)"), null=True, blank=True)

    class Meta:
        verbose_name = _("pay link settings")
        verbose_name_plural = _("pay link settings")
        constraints = [models.UniqueConstraint(fields=["account"], name="paylink_settings_one_per_account")]

    def __str__(self):
        return str(self.account)


class PayLink(TenantModel):
    class Status(models.TextChoices):
        # A link ("lien", masculine in French): its own words, apart from a sale's "Completed" ("Terminée").
        ACTIVE = "active", pgettext_lazy("pay link", "Active")
        COMPLETED = "completed", pgettext_lazy("pay link", "Completed")
        DEACTIVATED = "deactivated", pgettext_lazy("pay link", "Deactivated")

    class Ending(models.TextChoices):
        """Why a link stopped working without being paid."""

        NONE = "", _("—")
        STAFF = "staff", _("Deactivated by staff")
        REPLACED = "replaced", _("Replaced by a new link")
        VOIDED = "voided", _("The sale was voided")
        SETTLED = "settled", _("The balance changed in store")

    sale = models.ForeignKey("retail.Sale", on_delete=models.PROTECT, related_name="pay_links")
    key = models.CharField(max_length=64, unique=True)  # random; the link's token is this key, signed
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    ending = models.CharField(max_length=10, choices=Ending.choices, default=Ending.NONE, blank=True)
    sent_to = models.EmailField()
    language = models.CharField(max_length=5)  # the customer's: the e-mails, the PDF and the pay page
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    payment = models.ForeignKey("payments.Payment", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")  # the payment that paid it
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("pay link")
        verbose_name_plural = _("pay links")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="paylink_account_recent"),
            models.Index(fields=["account", "status", "-created_at", "-id"], name="paylink_account_status"),
            models.Index(fields=["created_at"], condition=Q(status="active"), name="paylink_active_since"),
        ]
        constraints = [
            # One link asks for the sale's money at a time: sending again replaces the active one.
            models.UniqueConstraint(fields=["sale"], condition=Q(status="active"), name="paylink_one_active_per_sale"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="paylink_amount_positive"),
        ]

    def __str__(self):
        return f"{format_money(self.amount, self.currency)} ({self.get_status_display()})"


class PayLinkEmail(TenantModel, Leased):
    """An e-mail about a pay link to render and queue: the receipt with the link (and its PDF invoice), a
    reminder, or the payment's confirmation. Written with the change it reports; a worker renders it (the
    PDF is the slow part: never in the cashier's request) and hands it to the e-mail outbox
    (accounts.services.email_queue), once: `queued_at` is set in the same transaction."""

    MAX_TRIES = 5

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt with pay link")
        REMINDER = "reminder", _("Reminder")
        CONFIRMATION = "confirmation", _("Payment confirmation")

    link = models.ForeignKey(PayLink, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    email = models.ForeignKey("accounts.OutgoingEmail", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")

    class Meta:
        verbose_name = _("pay link e-mail")
        verbose_name_plural = _("pay link e-mails")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at"], condition=Q(queued_at__isnull=True),
                                name="paylink_email_due")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.link_id})"
