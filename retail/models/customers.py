from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel
from retail.pricing import format_rate


class CustomerType(TenantModel):
    """A customer group (e.g. "Abonnés", "VIP"); subscription plans assign one. Its discount, in basis
    points of a percent (1000 = 10 %), is taken off every line of its customers' sales at the sell screen."""

    name = models.CharField(_("name"), max_length=80)
    discount_bp = models.PositiveIntegerField(_("discount (basis points)"), default=0)

    class Meta:
        verbose_name = _("customer type")
        verbose_name_plural = _("customer types")
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="customertype_unique_name"),
            models.CheckConstraint(condition=Q(discount_bp__lte=10_000), name="customertype_discount_at_most_100"),
        ]
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def discount_percent(self) -> str:
        """The discount as the reader writes a percentage ("7.5%", "7,5 %"); empty without one."""
        return format_rate(self.discount_bp) if self.discount_bp else ""


class Customer(TenantModel):
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address (line 2)"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    customer_type = models.ForeignKey(CustomerType, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="customers", verbose_name=_("customer type"))
    notes = models.TextField(_("notes"), blank=True)
    # The language the customer reads (their e-mails, invoices and pay links); set to the shop's when the
    # customer is created. Empty (a row written outside customer_create, even in raw SQL: the database's
    # default) means the shop's language.
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, blank=True, default="",
                                db_default="")
    # What the customer owes on account (pay later), in minor units; never negative.
    balance = models.BigIntegerField(_("on-account balance"), default=0)
    # Store credit the shop owes the customer, in minor units.
    store_credit = models.BigIntegerField(_("store credit"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="customer_balance_not_negative"),
            models.CheckConstraint(condition=Q(store_credit__gte=0), name="customer_credit_not_negative"),
        ]
        indexes = [
            # With id, the index gives the list's whole order (last name, first name, id): no sort on top.
            models.Index(fields=["account", "last_name", "first_name", "id"], name="customer_account_name_id"),
            models.Index(fields=["account", "email"], name="customer_account_email"),
            models.Index(fields=["account", "balance"], name="customer_account_balance",
                         condition=Q(balance__gt=0)),
        ]
        ordering = ["last_name", "first_name", "id"]

    def __str__(self):
        return self.full_name or self.company or self.email or f"#{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def language_or(self, default: str) -> str:
        """The customer's language, or this one (the shop's) when none is set."""
        return self.language or default

    @property
    def postal_address(self) -> str:
        town = " ".join(part for part in (self.postcode, self.city) if part)
        return "\n".join(part for part in (self.address_line1, self.address_line2, town, self.country) if part)


class GiftCard(TenantModel):
    code = models.CharField(_("code"), max_length=40)
    balance = models.BigIntegerField(_("balance"), default=0)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    expires_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("gift card")
        verbose_name_plural = _("gift cards")
        constraints = [models.UniqueConstraint(fields=["account", "code"], name="giftcard_unique_code")]
        ordering = ["-issued_at"]

    def __str__(self):
        return self.code
