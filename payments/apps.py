from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        # The "payments" CSV export kind is registered by the selectors; load it in every process.
        import payments.selectors  # noqa: F401
        from payments import settlement
        from payments.sandbox import events as sandbox_events
        from payments.sell_views import pending_card_notices
        from payments.webhooks import deliver_sandbox_event
        from retail import sell_actions

        # What a payment pays for, as far as payments knows: a sale (retail, below us), or nothing.
        settlement.HANDLERS.register("sale", settlement.SALE)
        settlement.HANDLERS.register("none", settlement.NOTHING)
        # The sandbox processor sends its signed events to our webhook handling, as Stripe would.
        sandbox_events.RECEIVERS.register("payments", deliver_sandbox_event)
        sell_actions.ACTIONS.register("card_manual_entry", sell_actions.SellPaymentAction(
            group=pgettext_lazy("sell screen, other payments", "Credit/Debit"), label=_("Manual entry"),
            url_name="payments_sell:card"), order=10)
        sell_actions.NOTICE_PROVIDERS.register("pending_card_payments", pending_card_notices)
