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
        from saved_cards import selectors, services, views
        from saved_cards.sell_views import SaleCardSaver, offered

        settings_sections.GENERAL.register(settings_sections.Section(
            key="saved_cards", template="saved_cards/general_section.html", context=views.general_settings_section))
        customer_extensions.PROFILE.register(customer_extensions.Section(
            key="saved_cards", template="saved_cards/profile_section.html", context=views.profile_section))
        customer_extensions.register_list_filter(customer_extensions.CustomerListFilter(
            key="card_expiring", label=_("Card expiring (default card, within 30 days)"),
            available=selectors.feature_enabled, apply=selectors.with_expiring_default_card))
        customer_extensions.register_change_listener(services.card_customer_follow)
        sell_actions.register(sell_actions.SellPaymentAction(
            key="saved_payments", group="", label=_("Saved payments"), url_name="saved_cards:sell",
            permission="use_saved_payment_method", available=offered))
        card_saving.register(SaleCardSaver())
