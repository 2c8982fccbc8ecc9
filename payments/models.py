"""Our records of money moved through a processor: Payment, Refund, PaymentAttempt (one per call
that may move money, keyed by a unique idempotency key derived from our row), the processor's
webhook events, and each account's payment settings. The sandbox processor keeps its own state in
the payments_sandbox app, apart from these.

A Payment records what it pays for (its purpose, settled by that purpose's handler: payments.settlement)
and who receives the money (its payee, whose processor account every call about it goes to:
payments.gateway.get_gateway)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Outlet, Register, TenantModel, User
from payments import gateway
from posbackoffice.jobs import Leased
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

    class Purpose(models.TextChoices):
        """What the payment pays for. `sale` points at its sale; the purposes of apps above payments
        point at their row with `purpose_ref` (payments cannot hold a foreign key to them)."""

        SALE = "sale", _("Sale")  # a card payment at the sell screen; a pay link settling an on-account sale
        SUBSCRIPTION_CYCLE = "subscription_cycle", _("Subscription cycle")  # subscriptions
        MERCHANT_INVOICE = "merchant_invoice", _("Merchant invoice")  # billing: the merchant pays us
        NONE = "none", _("Nothing")  # a standalone terminal payment

    class Payee(models.TextChoices):
        MERCHANT = gateway.MERCHANT, _("The shop")
        PLATFORM = gateway.PLATFORM, _("The platform")

    outlet = models.ForeignKey(Outlet, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    register = models.ForeignKey(Register, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sale = models.ForeignKey("retail.Sale", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="processor_payments")
    customer = models.ForeignKey("retail.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="processor_payments")
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    # The row of the app above payments this pays for (a subscription cycle, a merchant invoice).
    purpose_ref = models.BigIntegerField(null=True, blank=True)
    # Whose processor account takes the money: the shop's, or ours for what the shop pays us.
    payee = models.CharField(max_length=10, choices=Payee.choices, default=Payee.MERCHANT)
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
            models.Index(fields=["purpose", "purpose_ref"], name="payment_purpose_ref"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            # A sale's payment points at the sale, an upper app's purpose at its row, "none" at nothing.
            models.CheckConstraint(
                condition=(Q(purpose="sale", sale__isnull=False, purpose_ref__isnull=True)
                           | Q(purpose__in=["subscription_cycle", "merchant_invoice"], sale__isnull=True,
                               purpose_ref__isnull=False)
                           | Q(purpose="none", sale__isnull=True, purpose_ref__isnull=True)),
                name="payment_purpose_reference"),
            # What the merchant pays us goes to the platform's account; everything else to the shop's.
            models.CheckConstraint(
                condition=(Q(purpose="merchant_invoice", payee="platform")
                           | (~Q(purpose="merchant_invoice") & Q(payee="merchant"))),
                name="payment_payee_of_purpose"),
            models.CheckConstraint(condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=models.F("amount")),
                                   name="payment_refund_within_amount"),
        ]

    def __str__(self):
        label = f"{self.get_method_display()} {format_money(self.amount, self.currency)}"
        return f"{label} {self.card_label}" if self.card_last4 else label

    # Purposes whose row belongs to an app above payments: the payment points at it with purpose_ref.
    REFERENCED_PURPOSES = (Purpose.SUBSCRIPTION_CYCLE, Purpose.MERCHANT_INVOICE)

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


class PaymentAttempt(TenantModel, Leased):
    """One call to the processor that may move money. Its idempotency key is derived from our row
    (e.g. "payment-42-charge"), so a retry after a crash or timeout sends the same key and the
    processor answers with the first result instead of charging again. Whoever talks to the processor
    about it (the cashier's request, the reconciliation task) claims it first (`lease_until`), so two
    never do at once; `tries` counts the requests sent."""

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
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment attempt")
        verbose_name_plural = _("payment attempts")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["outcome", "created_at"], name="attempt_outcome_created")]

    def __str__(self):
        return self.idempotency_key


class WebhookEvent(Leased):
    """A processor event, stored once (unique per processor account and event id) before it is handled.
    The stored row is its own outbox: an event not processed yet is handled by a task, and swept again
    (payments.tasks.sweep_webhook_events) until it is, up to MAX_TRIES."""

    MAX_TRIES = 10

    processor = models.CharField(max_length=20)
    # The processor account that sent it (its own endpoint and secret): a payee, or "" for the sandbox,
    # the one offline processor both payees use by default.
    payee = models.CharField(max_length=10, blank=True)
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
        constraints = [models.UniqueConstraint(fields=["processor", "payee", "event_id"], name="webhook_event_once")]
        indexes = [models.Index(fields=["received_at"], condition=Q(processed_at__isnull=True),
                                name="webhook_event_unprocessed")]
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
    # Card readers may take payments without a sale, the amount typed on the reader (terminal app).
    standalone_enabled = models.BooleanField(_("standalone mode"), default=False)

    class Meta:
        verbose_name = _("payment settings")
        verbose_name_plural = _("payment settings")
        constraints = [models.UniqueConstraint(fields=["account"], name="payment_settings_one_per_account")]

    def __str__(self):
        return str(self.account)


class ReconciliationReport(TenantModel):
    """One run of `manage.py reconcile` for an account (payments.reconciliation): how much was compared with
    the processor's records and each difference found. The newest is shown to the owner in Finance › Payments."""

    ran_at = models.DateTimeField()
    since = models.DateTimeField(null=True, blank=True)  # only what was created since; None: everything
    payments_checked = models.PositiveIntegerField(default=0)
    refunds_checked = models.PositiveIntegerField(default=0)
    in_flight = models.PositiveIntegerField(default=0)  # pending at the time: not compared yet
    # [{kind, processor_id, payment_id, refund_id, ours, theirs}] (payments.reconciliation.Discrepancy)
    discrepancies = models.JSONField(default=list)

    class Meta:
        verbose_name = _("reconciliation report")
        verbose_name_plural = _("reconciliation reports")
        ordering = ["-ran_at", "-id"]
        indexes = [models.Index(fields=["account", "-ran_at"], name="reconciliation_account_recent")]

    def __str__(self):
        return f"{self.ran_at:%Y-%m-%d %H:%M} ({len(self.discrepancies)})"
