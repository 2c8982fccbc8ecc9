from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Account


class ShopSettings(models.Model):
    """Per-account settings of the POS core."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="shop_settings")
    # French shops display prices with VAT included; the tax is then extracted from the price.
    prices_include_tax = models.BooleanField(_("prices include tax"), default=True)
    receipt_footer = models.CharField(_("receipt footer"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("sales settings")
        verbose_name_plural = _("sales settings")

    def __str__(self):
        return str(self.account)
