from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Outlet, TenantModel, User


class TaxRate(TenantModel):
    name = models.CharField(_("name"), max_length=60)
    # Basis points: 2000 = 20 %, 550 = 5.5 %. Integers only, like money.
    rate_bp = models.PositiveIntegerField(_("rate (basis points)"))
    is_default = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("tax rate")
        verbose_name_plural = _("tax rates")
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="taxrate_unique_name")]
        ordering = ["rate_bp", "name"]

    def __str__(self):
        return self.name


class Product(TenantModel):
    sku = models.CharField(_("SKU"), max_length=64)
    barcode = models.CharField(_("barcode"), max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=200)
    price = models.BigIntegerField(_("price"), help_text=_("In minor units of the account currency."))
    tax_rate = models.ForeignKey(TaxRate, on_delete=models.PROTECT, related_name="products")
    # Non-inventory items (fees, services) never move stock.
    track_inventory = models.BooleanField(_("track inventory"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(fields=["account", "sku"], name="product_unique_sku"),
            models.UniqueConstraint(fields=["account", "barcode"], condition=~Q(barcode=""),
                                    name="product_unique_barcode"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]
        indexes = [models.Index(fields=["account", "name"], name="product_account_name")]
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.sku})"


class StockLevel(TenantModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_levels")
    outlet = models.ForeignKey(Outlet, on_delete=models.CASCADE, related_name="+")
    quantity = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [models.UniqueConstraint(fields=["product", "outlet"], name="stocklevel_unique")]

    def __str__(self):
        return f"{self.product_id}@{self.outlet_id}: {self.quantity}"


class StockMove(TenantModel):
    class Reason(models.TextChoices):
        SALE = "sale", _("Sale")
        VOID = "void", _("Void")
        RETURN = "return", _("Return")
        ADJUSTMENT = "adjustment", _("Adjustment")

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    outlet = models.ForeignKey(Outlet, on_delete=models.CASCADE, related_name="+")
    delta = models.IntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    sale = models.ForeignKey("retail.Sale", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        indexes = [models.Index(fields=["account", "product", "-created_at"], name="stockmove_product_recent")]

    def __str__(self):
        return f"{self.reason} {self.delta:+d} of {self.product_id}"
