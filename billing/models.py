"""What the merchant pays us, the platform (docs/architecture.md, "Billing").

The platform's catalogue (no account: kept in the Django admin, seeded by migration 0002): `Plan` (current
or legacy, its features, the add-ons it includes, the integrations it allows), `PlanPrice` (per licence
— outlet, register — per frequency per currency), `AddonPrice`, `HoldFee` (per country and currency, per
month on hold).

The merchant's side (TenantModel): `MerchantPlan` (one per account: plan, frequency, the card on file at
the platform's processor account, the current period and when the billing job looks at it next),
`LedgerEntry` (the account balance: append-only credits and debits whose sum is the balance),
`Invoice` and `InvoiceLine`, `Hold` (a stay on hold: since when, for how long, read-only or not, the plan
it left, the next hold fee).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import TenantModel, User
from posbackoffice.jobs import Leased
from posbackoffice.money import format_money


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    YEARLY = "yearly", _("Yearly")


class Licence(models.TextChoices):
    OUTLET = "outlet", _("Outlet")
    REGISTER = "register", _("Register")


class Plan(models.Model):
    """A plan of the platform's catalogue. A legacy plan is kept for the merchants still on it; nobody
    moves onto one, and reactivating an account on hold always needs a current plan."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    legacy = models.BooleanField(_("legacy"), default=False)
    # Labels of what the plan gives, in English (translated in the catalogue's messages).
    features = models.JSONField(_("features"), default=list, blank=True)
    # Add-on codes (accounts.addons) the plan includes at no extra charge.
    included_addons = models.JSONField(_("included add-ons"), default=list, blank=True)
    # Integration keys the plan allows ("xero", "app:<slug>", "app:*" for every third-party app).
    allowed_integrations = models.JSONField(_("allowed integrations"), default=list, blank=True)
    rank = models.PositiveSmallIntegerField(_("rank"), default=0, help_text=_("Order in the plans and prices page."))

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["legacy", "rank", "code"]

    def __str__(self):
        return self.name

    def allows_integration(self, key: str) -> bool:
        allowed = set(self.allowed_integrations or ())
        return key in allowed or (key.startswith("app:") and "app:*" in allowed)


class PlanPrice(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    licence = models.CharField(_("licence"), max_length=10, choices=Licence.choices)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    currency = models.CharField(_("currency"), max_length=3)
    amount = models.BigIntegerField(_("amount"), help_text=_("Per licence and period, in minor units."))

    class Meta:
        verbose_name = _("plan price")
        verbose_name_plural = _("plan prices")
        constraints = [
            models.UniqueConstraint(fields=["plan", "licence", "frequency", "currency"], name="plan_price_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="plan_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.plan} {self.licence} {self.frequency} {format_money(self.amount, self.currency)}"


class AddonPrice(models.Model):
    addon = models.CharField(_("add-on"), max_length=40)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    currency = models.CharField(_("currency"), max_length=3)
    amount = models.BigIntegerField(_("amount"), help_text=_("Per period, in minor units."))

    class Meta:
        verbose_name = _("add-on price")
        verbose_name_plural = _("add-on prices")
        constraints = [
            models.UniqueConstraint(fields=["addon", "frequency", "currency"], name="addon_price_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="addon_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.addon} {self.frequency} {format_money(self.amount, self.currency)}"


class HoldFee(models.Model):
    """The monthly fee of an account on hold, by country (empty: any other country) and currency."""

    country = models.CharField(_("country"), max_length=2, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    amount = models.BigIntegerField(_("amount"), help_text=_("Per month on hold, in minor units."))

    class Meta:
        verbose_name = _("hold fee")
        verbose_name_plural = _("hold fees")
        constraints = [
            models.UniqueConstraint(fields=["country", "currency"], name="hold_fee_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="hold_fee_not_negative"),
        ]

    def __str__(self):
        return f"{self.country or '*'} {format_money(self.amount, self.currency)}"


class MerchantPlan(TenantModel, Leased):
    """The merchant's plan with us, one per account. The add-ons it pays for are the account's add-ons
    (Account.addons) beyond those the plan includes; its licences are counted from its outlets and
    registers. The billing job (billing.runs) claims this row (`lease_until`) when `next_bill_at` has come:
    the next period's invoice while the account is active, the next hold fee while it is on hold."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices,
                                 default=Frequency.MONTHLY)
    # A discount agreed on the plan (percent); lost when the plan or the frequency changes.
    discount_percent = models.PositiveSmallIntegerField(_("discount (%)"), default=0)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)  # the first day after the paid period
    period_anchor = models.PositiveSmallIntegerField(null=True, blank=True)  # the periods' day of the month
    next_bill_at = models.DateTimeField(null=True, blank=True)
    # The card on file, at the platform's processor account: ids, brand, last 4 and expiry only.
    processor_customer_id = models.CharField(max_length=100, blank=True)
    payment_method_id = models.CharField(max_length=100, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    card_setup_id = models.CharField(max_length=100, blank=True)  # the setup the browser is confirming
    card_setups = models.PositiveIntegerField(default=0)  # counts setups: each one's idempotency key

    class Meta:
        verbose_name = _("merchant plan")
        verbose_name_plural = _("merchant plans")
        constraints = [
            models.UniqueConstraint(fields=["account"], name="merchant_plan_one_per_account"),
            models.CheckConstraint(condition=Q(discount_percent__lte=100), name="merchant_plan_discount_percent"),
        ]
        indexes = [models.Index(fields=["next_bill_at"], name="merchant_plan_due")]

    def __str__(self):
        return f"{self.account} — {self.plan}"

    @property
    def has_card(self) -> bool:
        return bool(self.payment_method_id)

    @property
    def card_label(self) -> str:
        return f"{self.card_brand.title()} •••• {self.card_last4}" if self.card_last4 else ""


class LedgerEntry(TenantModel):
    """One credit (positive) or debit (negative) of the account's balance with us. Append-only: the
    balance is the sum of the entries; a mistake is corrected by another entry."""

    class Kind(models.TextChoices):
        PRORATION = "proration", _("Unused time credited")
        HOLD_FEE = "hold_fee", _("Hold fee")
        INVOICE = "invoice", _("Invoice paid from the balance")
        REFUND = "refund", _("Returned to the balance")
        ADJUSTMENT = "adjustment", _("Adjustment")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    description = models.CharField(_("description"), max_length=200)
    invoice = models.ForeignKey("Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("balance entry")
        verbose_name_plural = _("balance entries")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_not_zero")]

    def __str__(self):
        return f"{self.get_kind_display()} {format_money(self.amount, self.currency)}"

    def save(self, *args, **kwargs):
        # The table's invariant (like AuditEvent's), not a business rule: rows are never changed.
        if self.pk is not None:
            raise ValueError("balance entries are append-only")
        super().save(*args, **kwargs)


class Invoice(TenantModel):
    """What we bill the merchant for one period (plan and add-ons), one month on hold (the hold fee) or
    reactivation. Paid from the balance first (a LedgerEntry), the rest by the card on file (a Payment to
    the platform pointing at this row). One invoice per account, kind and period."""

    class Kind(models.TextChoices):
        PLAN = "plan", pgettext_lazy("billing", "Plan")
        HOLD_FEE = "hold_fee", _("Hold fee")
        REACTIVATION = "reactivation", _("Reactivation")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")  # the card is being charged
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Payment failed")  # retried (plan, hold fee) or given up (reactivation)
        VOID = "void", _("Void")

    number = models.CharField(_("number"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    period_start = models.DateField()
    period_end = models.DateField()
    currency = models.CharField(max_length=3)
    total = models.BigIntegerField()
    from_balance = models.BigIntegerField(default=0)
    # The Payment (platform payee) charging the rest to the card; the latest try.
    payment = models.ForeignKey("payments.Payment", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    tries = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)  # when a failed card payment is tried again
    # What reactivation activates once paid: {"plan": id, "frequency": ..., "addons": [...]}.
    activates = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "period_start"],
                                    condition=~Q(kind="reactivation"), name="invoice_one_per_period"),
            # Two tabs paying at once: one reactivation invoice in progress per account.
            models.UniqueConstraint(fields=["account"], condition=Q(kind="reactivation", status="open"),
                                    name="invoice_one_reactivation_open"),
            models.CheckConstraint(condition=Q(total__gte=0) & Q(from_balance__gte=0)
                                   & Q(from_balance__lte=models.F("total")), name="invoice_amounts"),
        ]
        indexes = [models.Index(fields=["retry_at"], condition=Q(status="failed"), name="invoice_retry_due")]

    def __str__(self):
        return self.number

    @property
    def card_amount(self) -> int:
        return self.total - self.from_balance


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(default=1)
    unit_amount = models.BigIntegerField()
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.description


class Hold(TenantModel, Leased):
    """One stay on hold, from `started_at` to `ended_at` (reactivation). The hold fee job claims it
    (`lease_until`) when `fee_due_at` has come: one fee per month on hold, counted from the start."""

    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    months = models.PositiveSmallIntegerField(null=True, blank=True)  # None: "I don't know"
    estimated_end = models.DateField(null=True, blank=True)
    read_only = models.BooleanField(default=False)  # reports and exports stay readable
    # The plan left behind, for the recommendation at reactivation.
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    addons = models.JSONField(default=list, blank=True)
    outlets = models.PositiveIntegerField(default=0)
    registers = models.PositiveIntegerField(default=0)
    credited = models.BigIntegerField(default=0)  # the unused time credited to the balance
    fees_taken = models.PositiveIntegerField(default=0)  # the months already billed
    fee_due_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["account"], condition=Q(ended_at__isnull=True),
                                               name="hold_one_current")]
        indexes = [models.Index(fields=["fee_due_at"], condition=Q(ended_at__isnull=True), name="hold_fee_due")]
