from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        # The "payments" CSV export kind is registered by the selectors; load it in every process.
        import payments.selectors  # noqa: F401
        from payments.sell_views import pending_card_notices
        from retail import sell_actions

        sell_actions.register(sell_actions.SellPaymentAction(
            key="card_manual_entry", group=pgettext_lazy("sell screen, other payments", "Credit/Debit"),
            label=_("Manual entry"), url_name="payments_sell:card"))
        sell_actions.register_notices(pending_card_notices)
