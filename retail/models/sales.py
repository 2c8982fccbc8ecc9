from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Outlet, Register, TenantModel, User
from retail.models.catalogue import Product
from retail.models.customers import Customer, CustomerType
from retail.models.registers import PaymentType, RegisterSession
from retail.pricing import format_rate


class ReceiptSequence(TenantModel):
    """The next receipt number of an outlet; locked while a sale completes, so numbers never repeat."""

    outlet = models.OneToOneField(Outlet, on_delete=models.CASCADE, related_name="receipt_sequence")
    next_number = models.PositiveBigIntegerField(default=1)

    class Meta:
        verbose_name = _("receipt sequence")
        verbose_name_plural = _("receipt sequences")

    def __str__(self):
        return f"{self.outlet_id}: {self.next_number}"


class Sale(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", _("In progress")
        PARKED = "parked", _("Parked")
        COMPLETED = "completed", _("Completed")
        ON_ACCOUNT = "on_account", _("On account — unpaid")
        VOIDED = "voided", _("Voided")
        RETURNED = "returned", _("Returned")
        # Thrown away from the sell screen, but kept because a declined card payment refers to it.
        DISCARDED = "discarded", _("Discarded")

    outlet = models.ForeignKey(Outlet, on_delete=models.PROTECT, related_name="+")
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(RegisterSession, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="sales")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    receipt_number = models.PositiveBigIntegerField(null=True, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="sales")
    # The customer's type when the sale was made (the sales report groups by it) and the discount it gave:
    # snapshots, so a type renamed, changed or removed later leaves this sale's receipt as it was.
    customer_type = models.ForeignKey(CustomerType, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    customer_type_name = models.CharField(max_length=80, blank=True)
    customer_discount_bp = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3)
    prices_include_tax = models.BooleanField(default=True)
    subtotal = models.BigIntegerField(default=0)  # sum of line totals after discounts
    discount_total = models.BigIntegerField(default=0)
    tax_total = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)  # what the customer pays
    paid_total = models.BigIntegerField(default=0)  # payments net of refunds
    returned_total = models.BigIntegerField(default=0)  # value of goods brought back
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    parked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sale")
        verbose_name_plural = _("sales")
        constraints = [
            models.UniqueConstraint(fields=["outlet", "receipt_number"], name="sale_unique_receipt_per_outlet"),
            # The cart on a register's screen: at most one sale in progress per register.
            models.UniqueConstraint(fields=["register"], condition=Q(status="open"), name="sale_one_open_per_register"),
        ]
        indexes = [
            models.Index(fields=["account", "-completed_at", "-id"], name="sale_account_recent"),
            models.Index(fields=["account", "status", "-completed_at", "-id"], name="sale_account_status_recent"),
            models.Index(fields=["account", "customer", "-completed_at"], name="sale_account_customer"),
            models.Index(fields=["account", "register", "status"], name="sale_account_register_status"),
            models.Index(fields=["account", "receipt_number"], name="sale_account_receipt"),
        ]

    def __str__(self):
        return self.receipt or f"#{self.pk}"

    @property
    def receipt(self) -> str:
        return str(self.receipt_number) if self.receipt_number else ""

    @property
    def customer_discount_label(self) -> str:
        """"Customer discount VIP −10%" ("Remise client VIP −10 %"): what each discounted line shows."""
        if not self.customer_discount_bp:
            return ""
        return gettext("Customer discount %(type)s −%(percent)s") % {
            "type": self.customer_type_name,
            "percent": format_rate(self.customer_discount_bp)}

    @property
    def balance_due(self) -> int:
        """What the customer still owes for this sale (negative: we owe them)."""
        return self.total - self.returned_total - self.paid_total


class SaleLine(TenantModel):
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    # Snapshots: the receipt keeps what was sold even if the product changes later.
    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    unit_price = models.BigIntegerField()
    discount = models.BigIntegerField(default=0)  # on the whole line, minor units, typed by the cashier
    # The customer type's discount (Sale.customer_discount_bp of what is left after `discount`), minor units.
    customer_discount = models.BigIntegerField(default=0)
    tax_rate_bp = models.PositiveIntegerField()
    tax_amount = models.BigIntegerField(default=0)
    line_total = models.BigIntegerField(default=0)  # quantity × unit price − discounts (+ tax if exclusive)
    returned_quantity = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("sale line")
        verbose_name_plural = _("sale lines")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="saleline_quantity_positive"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="saleline_discount_not_negative"),
            models.CheckConstraint(condition=Q(customer_discount__gte=0),
                                   name="saleline_customer_discount_not_negative"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.name}"


class SalePayment(TenantModel):
    """Money taken (positive) or given back (negative) for a sale, by payment type."""

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="payments")
    payment_type = models.ForeignKey(PaymentType, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(RegisterSession, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="payments")
    amount = models.BigIntegerField()
    tendered = models.BigIntegerField(null=True, blank=True)  # cash handed over, when more than due
    # None: paid online by the customer (a pay link), not taken by a staff member.
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Set by the payments app when a processor payment backs this row.
    processor_payment_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("sale payment")
        verbose_name_plural = _("sale payments")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["account", "session", "payment_type"], name="salepayment_session_type")]

    def __str__(self):
        return f"{self.payment_type}: {self.amount}"

    @property
    def change_given(self) -> int:
        return (self.tendered - self.amount) if self.tendered else 0


class SaleReturn(TenantModel):
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="returns")
    amount = models.BigIntegerField()
    # How money was given back; empty when the return only reduced what the customer owed.
    payment_type = models.ForeignKey(PaymentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")

    def __str__(self):
        return f"return of {self.sale_id}: {self.amount}"


class SaleReturnLine(TenantModel):
    sale_return = models.ForeignKey(SaleReturn, on_delete=models.CASCADE, related_name="lines")
    sale_line = models.ForeignKey(SaleLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    amount = models.BigIntegerField()

    class Meta:
        verbose_name = _("returned line")
        verbose_name_plural = _("returned lines")

    def __str__(self):
        return f"{self.quantity} of line {self.sale_line_id}"
