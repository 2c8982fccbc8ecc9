from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        # What the merchant pays us settles its invoice (payments sits below us: we register).
        from billing import invoices
        from payments import settlement

        settlement.HANDLERS.register("merchant_invoice", settlement.SettlementHandler(
            succeeded=invoices.invoice_paid, failed=invoices.invoice_failed))
