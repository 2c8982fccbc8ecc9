from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = _("Subscriptions")

    def ready(self):
        # What this app adds to the apps below it, through their registries.
        from accounts import addons, hold_hooks
        from payments import settlement
        from saved_cards import protection
        from subscriptions import billing, hold, services

        settlement.HANDLERS.register("subscription_cycle", settlement.SettlementHandler(
            succeeded=billing.cycle_paid, succeeded_many=billing.cycles_paid, failed=billing.cycle_failed))
        protection.PROTECTORS.register("subscriptions", services.live_subscription_of_card)
        # The account's hold and the add-on's switch: no back-charges for the time billing was stopped.
        hold_hooks.ON_REACTIVATED.register("subscriptions", hold.subscriptions_reactivated)
        addons.CHANGE_LISTENERS.register("subscriptions", hold.addon_changed)
