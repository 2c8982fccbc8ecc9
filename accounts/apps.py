from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and staff")

    def ready(self):
        from accounts import hold_hooks, integration_views, integrations_in_use
        from accounts.services import audit_record
        from posbackoffice import audit

        # posbackoffice's services (a queued export) write their audit rows into our log.
        audit.WRITER.register("accounts", audit_record)
        # Setup › Integrations takes part in putting the account on hold (billing's checklist, reactivation).
        hold_hooks.INTEGRATIONS_IN_USE.register("accounts", integrations_in_use.integrations_in_use)
        hold_hooks.CHECKLIST_SECTIONS.register("accounting", hold_hooks.Section(
            template="accounts/hold/accounting_section.html", context=integration_views.hold_accounting_section),
            order=10)
        hold_hooks.CHECKLIST_SECTIONS.register("third_party_apps", hold_hooks.Section(
            template="accounts/hold/apps_section.html", context=integration_views.hold_apps_section), order=20)
