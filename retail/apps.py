import importlib
import pkgutil

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetailConfig(AppConfig):
    name = "retail"
    verbose_name = _("Point of sale")

    def ready(self):
        # Export kinds are registered by the selector modules; load them in every process.
        import retail.selectors

        for module in pkgutil.iter_modules(retail.selectors.__path__):
            importlib.import_module(f"retail.selectors.{module.name}")

        # What the accounting integration (Setup › Integrations, in accounts) posts.
        from accounts.accounting.sources import SOURCES
        from retail import accounting_sources

        SOURCES.register(accounting_sources.CLOSURE, accounting_sources.CLOSURES, order=10)
        SOURCES.register(accounting_sources.ON_ACCOUNT_SALE, accounting_sources.ON_ACCOUNT_SALES, order=20)
