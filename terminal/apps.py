from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TerminalConfig(AppConfig):
    name = "terminal"

    def ready(self):
        from payments import event_handlers, refund_routes, settings_sections, settings_services
        from retail import sell_actions
        from terminal import driver, pages

        # The reader finished what the driver asked: check its open action now.
        event_handlers.HANDLERS.register("terminal.reader.action_succeeded", driver.reader_event)
        event_handlers.HANDLERS.register("terminal.reader.action_failed", driver.reader_event)
        # A card_present payment's own event ends its reader's action in the same task.
        event_handlers.PAYMENT_FOLLOWERS.register("terminal_reader_action", driver.follow_payment)
        # Setup › Payments › Terminals, and standalone mode turned off there.
        settings_sections.PAYMENTS.register("terminals", settings_sections.Section(
            "terminal/settings_section.html", pages.settings_section))
        settings_services.STANDALONE_OFF_CHECKS.register("terminal_readers", driver_back_to_integrated)
        # A standalone payment is refunded on the reader that took it (the original card confirmed there).
        refund_routes.ROUTES.register("standalone_on_reader", pages.standalone_refund_url)
        # Beyond the seed: a standalone payment becomes the card payment of the sale in progress.
        sell_actions.NOTICE_PROVIDERS.register("standalone_payments_to_attach", pages.standalone_payment_notices)
        # Sell screen › Pay › Card: the register's reader.
        sell_actions.ACTIONS.register("card_reader", sell_actions.SellPaymentAction(
            group=pgettext_lazy("sell screen, other payments", "Credit/Debit"), label=_("Card reader"),
            url_name="terminal:sell_card", available=pages.register_has_reader), order=5)


def driver_back_to_integrated(*, account):
    from terminal.services import readers_back_to_integrated

    readers_back_to_integrated(account=account)
