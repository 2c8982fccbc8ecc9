from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaylinksConfig(AppConfig):
    name = "paylinks"
    verbose_name = _("Pay links")

    def ready(self):
        # What this app adds to the pages and the sales of the apps below it, through their registries.
        from paylinks import services, views
        from retail import sale_extensions

        sale_extensions.DETAIL.register("paylinks", sale_extensions.Section(
            template="paylinks/sale_section.html", context=views.sale_section))
        sale_extensions.COMPLETION_OPTIONS.register("paylinks", sale_extensions.CompletionOption(
            template="paylinks/sell_option.html", context=views.completion_option, fields=("send_pay_link",),
            completed=services.sale_completed_on_account))
        sale_extensions.LISTENERS.register("paylinks", services.sale_money_changed)
