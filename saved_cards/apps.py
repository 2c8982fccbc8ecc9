from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SavedCardsConfig(AppConfig):
    name = "saved_cards"
    verbose_name = _("Saved payment methods")

    def ready(self):
        # What this app adds to the pages of the apps below it, through their registries.
        from accounts import settings_sections
        from payments import card_saving
        from retail import customer_extensions, sell_actions
        from saved_cards import protection, selectors, services, views
        from saved_cards.sell_views import SALE_CARD_SAVER, offered

        settings_sections.GENERAL.register("saved_cards", settings_sections.Section(
            template="saved_cards/general_section.html", context=views.general_settings_section))
        customer_extensions.PROFILE.register("saved_cards", customer_extensions.Section(
            template="saved_cards/profile_section.html", context=views.profile_section))
        customer_extensions.FILTERS.register("card_expiring", customer_extensions.CustomerListFilter(
            label=_("Card expiring (default card, within 30 days)"),
            available=selectors.feature_enabled, apply=selectors.with_expiring_default_card))
        sell_actions.ACTIONS.register("saved_payments", sell_actions.SellPaymentAction(
            group="", label=_("Saved payments"), url_name="saved_cards:sell",
            permission="use_saved_payment_method", available=offered), order=20)
        card_saving.SAVERS.register("saved_cards", SALE_CARD_SAVER)
        protection.PROTECTORS.register("owed_on_account", protection.owed_on_account)
        customer_extensions.CHANGE_LISTENERS.register("saved_cards", services.card_customer_follow)
