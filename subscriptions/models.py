"""Subscriptions (seed 001): plans a merchant sells, customers subscribed to them, and the cycles billed.

A Subscription is the row the billing job works on (posbackoffice.jobs.Leased): it is due when its
`due_at` has passed. Each billed period is a SubscriptionCycle (unique per subscription and period
index); each try at charging a cycle is a payments.Payment with purpose "subscription_cycle" pointing at
the cycle (purpose_ref), whose idempotency key comes from that row: so a crash or a duplicated task
charges a period at most once per attempt, and a sale exists only for a succeeded payment."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Outlet, Register, TenantModel, User
from posbackoffice.jobs import Leased


class SubscriptionSettings(TenantModel):
    """Subscriptions › Settings. One row per account, made on first save."""

    send_confirmation = models.BooleanField(_("Subscription confirmation"), default=True)
    # Beyond the seed: a failed retry may try the customer's other valid saved card.
    use_backup_card = models.BooleanField(_("Try the customer's other saved card when a retry fails"),
                                          default=False)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("subscription settings")
        verbose_name_plural = _("subscription settings")
        constraints = [models.UniqueConstraint(fields=["account"], name="subscriptionsettings_one_per_account")]


class Plan(TenantModel):
    class Interval(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        TWO_WEEKS = "2weeks", _("Every 2 weeks")
        MONTHLY = "monthly", _("Monthly")
        TWO_MONTHS = "2months", _("Every 2 months")
        THREE_MONTHS = "3months", _("Every 3 months")
        SIX_MONTHS = "6months", _("Every 6 months")
        YEARLY = "yearly", _("Yearly")

    name = models.CharField(_("name"), max_length=120)
    interval = models.CharField(_("interval"), max_length=10, choices=Interval.choices, default=Interval.MONTHLY)
    ships = models.BooleanField(_("shipping"), default=False)
    customer_type = models.ForeignKey("retail.CustomerType", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("customer type"))
    # None: open-ended (until cancelled); otherwise the number of intervals billed before it expires.
    duration_intervals = models.PositiveIntegerField(_("number of intervals"), null=True, blank=True)
    renewal_reminder_days = models.PositiveSmallIntegerField(null=True, blank=True)  # beyond the seed
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["account", "name"], name="plan_account_name")]

    def __str__(self):
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class PlanLine(TenantModel):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("retail.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    # None: the product's price at each cycle.
    recurring_price = models.BigIntegerField(_("recurring price"), null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("plan line")
        verbose_name_plural = _("plan lines")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="planline_quantity_positive"),
            models.CheckConstraint(condition=Q(recurring_price__isnull=True) | Q(recurring_price__gte=0),
                                   name="planline_price_not_negative"),
        ]


class Subscription(TenantModel, Leased):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", pgettext_lazy("subscription", "Scheduled")
        ACTIVE = "active", pgettext_lazy("subscription", "Active")
        PAUSED = "paused", pgettext_lazy("subscription", "Paused")
        OVERDUE = "overdue", pgettext_lazy("subscription", "Overdue")
        EXPIRED = "expired", pgettext_lazy("subscription", "Expired")
        CANCELLED = "cancelled", pgettext_lazy("subscription", "Cancelled")

    # Statuses the billing job may find due.
    BILLABLE = (Status.SCHEDULED, Status.ACTIVE, Status.OVERDUE)
    LIVE = (Status.SCHEDULED, Status.ACTIVE, Status.PAUSED, Status.OVERDUE)

    customer = models.ForeignKey("retail.Customer", on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    outlet = models.ForeignKey(Outlet, on_delete=models.PROTECT, related_name="+")
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+")
    card = models.ForeignKey("saved_cards.SavedCard", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    start_date = models.DateField(_("start date"))
    # The period index the next charge bills (0: the period starting on start_date); periods are computed
    # from start_date, so month ends stay anchored (31 Jan → 28/29 Feb → 31 Mar).
    next_period = models.PositiveIntegerField(default=0)
    next_billing_date = models.DateField(null=True, blank=True)
    # When the billing job should next look at it (the start of a local day, in UTC); None: nothing due.
    due_at = models.DateTimeField(null=True, blank=True)
    cycles_billed = models.PositiveIntegerField(default=0)
    cancel_at_period_end = models.BooleanField(default=False)
    # The customer type this subscription gave its customer (removed when it ends).
    customer_type = models.ForeignKey("retail.CustomerType", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    notes = models.TextField(_("private notes"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    paused_at = models.DateTimeField(null=True, blank=True)
    # Why it is paused when staff did not pause it: the Subscriptions add-on was removed (it resumes, with
    # no back-charges, when the add-on returns; subscriptions.hold).
    pause_reason = models.CharField(max_length=16, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    reminded_for = models.DateField(null=True, blank=True)  # the billing date last reminded of

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["due_at"], name="subscription_due",
                         condition=Q(status__in=["scheduled", "active", "overdue"], due_at__isnull=False)),
            models.Index(fields=["account", "-created_at", "-id"], name="subscription_account_recent"),
            models.Index(fields=["account", "status", "-created_at", "-id"], name="subscription_account_status"),
            models.Index(fields=["account", "customer"], name="subscription_account_customer"),
        ]

    def __str__(self):
        return f"{self.plan} — {self.customer}"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE


class SubscriptionCycle(TenantModel):
    """One billed period. Its payments (one per try) point at it with purpose_ref."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        ABANDONED = "abandoned", _("Abandoned")

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="cycles")
    period = models.PositiveIntegerField()
    period_start = models.DateField()
    period_end = models.DateField()
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    # The plan's lines as billed: [[product_id, quantity, unit_price], ...] (a plan change is for later cycles).
    lines = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    payment = models.ForeignKey("payments.Payment", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")  # the current (last) try
    tries = models.PositiveSmallIntegerField(default=0)
    failures = models.PositiveSmallIntegerField(default=0)
    first_failed_on = models.DateField(null=True, blank=True)
    next_retry_on = models.DateField(null=True, blank=True)
    # Beyond the seed: why the last failure stopped or continued the retries.
    dunning_note = models.CharField(max_length=200, blank=True)
    sale = models.ForeignKey("retail.Sale", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    fulfilment_note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("subscription cycle")
        verbose_name_plural = _("subscription cycles")
        ordering = ["-period", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "period"], name="cycle_one_per_period"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="cycle_amount_positive"),
        ]
