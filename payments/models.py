"""Our records of money moved through a processor: Payment, Refund, PaymentAttempt (one per call
that may move money, keyed by a unique idempotency key derived from our row), the processor's
webhook events, and each account's payment settings. The sandbox processor keeps its own state in
the payments_sandbox app, apart from these."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Outlet, Register, TenantModel, User
from posbackoffice.money import format_money


class Payment(TenantModel):
    class Method(models.TextChoices):
        CARD_PRESENT = "card_present", _("Card present")
        CARD_NOT_PRESENT = "card_not_present", _("Card not present")
        SAVED_CARD = "saved_card", _("Saved card")
        ONLINE = "online", _("Online")
        CASH = "cash", _("Cash")

    class Mode(models.TextChoices):
        INTEGRATED = "integrated", _("Integrated")
        STANDALONE = "standalone", _("Standalone")
        ONLINE = "online", _("Online")
        RECURRING = "recurring", _("Recurring")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        REFUNDED = "refunded", _("Refunded")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")

    class Payout(models.TextChoices):
        NONE = "", _("No payout")
        PENDING = "pending", _("Payout pending")
        PAID = "paid", _("Paid out")

    outlet = models.ForeignKey(Outlet, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    register = models.ForeignKey(Register, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sale = models.ForeignKey("retail.Sale", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="processor_payments")
    customer = models.ForeignKey("retail.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="processor_payments")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    amount_refunded = models.BigIntegerField(default=0)
    method = models.CharField(max_length=20, choices=Method.choices)
    mode = models.CharField(max_length=20, choices=Mode.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # True while the cardholder must confirm in the browser (3-D Secure) before the payment is known.
    requires_action = models.BooleanField(default=False)
    description = models.CharField(max_length=200, blank=True)
    receipt_email = models.EmailField(blank=True)  # where the receipt goes once the payment succeeds
    # The cardholder agreed to keep this card for later: the processor saves it to processor_customer_id
    # when the payment succeeds, and the registered card saver (payments.card_saving) records it.
    save_card = models.BooleanField(default=False)
    processor = models.CharField(max_length=20)
    processor_payment_id = models.CharField(max_length=100, blank=True)
    processor_customer_id = models.CharField(max_length=100, blank=True)
    payment_method_id = models.CharField(max_length=100, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    failure_code = models.CharField(max_length=60, blank=True)
    payout_status = models.CharField(max_length=10, choices=Payout.choices, default=Payout.NONE, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="payment_account_recent"),
            models.Index(fields=["account", "status", "-created_at"], name="payment_account_status"),
            models.Index(fields=["account", "mode", "-created_at"], name="payment_account_mode"),
            models.Index(fields=["account", "card_last4"], name="payment_account_last4"),
            models.Index(fields=["processor", "processor_payment_id"], name="payment_processor_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=models.F("amount")),
                                   name="payment_refund_within_amount"),
        ]

    def __str__(self):
        label = f"{self.get_method_display()} {format_money(self.amount, self.currency)}"
        return f"{label} {self.card_label}" if self.card_last4 else label

    @property
    def refundable(self) -> int:
        """What can still be refunded."""
        if self.status not in (self.Status.SUCCEEDED, self.Status.PARTIALLY_REFUNDED):
            return 0
        return self.amount - self.amount_refunded

    @property
    def card_label(self) -> str:
        return f"{self.card_brand.title()} •••• {self.card_last4}" if self.card_last4 else ""


class Refund(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    comment = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    processor_refund_id = models.CharField(max_length=100, blank=True)
    failure_code = models.CharField(max_length=60, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self):
        return format_money(self.amount, self.payment.currency)


class PaymentAttempt(TenantModel):
    """One call to the processor that may move money. Its idempotency key is derived from our row
    (e.g. "payment-42-charge-1"), so a retry after a crash or timeout sends the same key and the
    processor answers with the first result instead of charging again."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge")
        REFUND = "refund", _("Refund")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting for the processor")
        SUCCEEDED = "succeeded", _("Succeeded")
        REQUIRES_ACTION = "requires_action", _("Waiting for the cardholder")
        FAILED = "failed", _("Failed")

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="attempts")
    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.CASCADE, related_name="attempts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    idempotency_key = models.CharField(max_length=100, unique=True)
    request = models.JSONField(default=dict)  # what we asked, without any card data
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    response = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    tries = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment attempt")
        verbose_name_plural = _("payment attempts")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["outcome", "created_at"], name="attempt_outcome_created")]

    def __str__(self):
        return self.idempotency_key


class WebhookEvent(models.Model):
    """A processor event, stored once (unique per processor and event id) before it is handled."""

    processor = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    account = models.ForeignKey("accounts.Account", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="webhook_events")
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=100, blank=True)
    # Why an event we could not read failed (payments.messages.WEBHOOK_FAILURES); outcome is then FAILED.
    failure_code = models.CharField(max_length=60, blank=True)

    FAILED = "failed"

    class Meta:
        verbose_name = _("processor event")
        verbose_name_plural = _("processor events")
        constraints = [models.UniqueConstraint(fields=["processor", "event_id"], name="webhook_event_once")]
        ordering = ["received_at", "id"]

    def __str__(self):
        return f"{self.processor} {self.type} {self.event_id}"


class PaymentSettings(TenantModel):
    class Processor(models.TextChoices):
        INTEGRATED = "integrated", _("Integrated payments (Stripe)")
        TYRO = "tyro", _("Tyro")

    class PayoutSchedule(models.TextChoices):
        DAILY = "daily", _("Every day")
        WEEKLY = "weekly", _("Every week (Monday)")
        MONTHLY = "monthly", _("Every month (1st)")

    processor = models.CharField(_("payment processor"), max_length=20, choices=Processor.choices,
                                 default=Processor.INTEGRATED)
    cash_discount_enabled = models.BooleanField(_("cash discount programme"), default=False)
    payout_schedule = models.CharField(_("payout schedule"), max_length=10, choices=PayoutSchedule.choices,
                                       default=PayoutSchedule.DAILY)

    class Meta:
        verbose_name = _("payment settings")
        verbose_name_plural = _("payment settings")
        constraints = [models.UniqueConstraint(fields=["account"], name="payment_settings_one_per_account")]

    def __str__(self):
        return str(self.account)
