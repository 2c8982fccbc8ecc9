from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and staff")

    def ready(self):
        from accounts.services import audit_record
        from posbackoffice import audit

        # posbackoffice's services (a queued export) write their audit rows into our log.
        audit.WRITER.register("accounts", audit_record)
