"""Setup › Payments: each account's payment settings (processor, cash discount programme, payout
schedule). An account that never saved them has no row and gets the defaults."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.services import audit_record, snapshot
from accounts.tenancy import scoped
from payments.models import PaymentSettings
from posbackoffice.errors import DomainError
from posbackoffice.registry import Registry

# Told, inside the settings' transaction, that standalone mode is being turned off: `check(account=)`
# refuses with a DomainError (a reader is taking a standalone payment) or puts the readers back in
# integrated mode. The terminal app registers itself.
STANDALONE_OFF_CHECKS: Registry = Registry("standalone mode turned off")

SETTINGS_FIELDS = ("processor", "cash_discount_enabled", "payout_schedule", "standalone_enabled")


def payment_settings_of(account) -> PaymentSettings:
    """The account's settings, or the defaults (unsaved) when it never changed them."""
    return scoped(PaymentSettings, account).first() or PaymentSettings(account=account)


@transaction.atomic
def payment_settings_update(*, actor, account, processor: str, cash_discount_enabled: bool,
                            payout_schedule: str, standalone_enabled: bool | None = None) -> PaymentSettings:
    """`standalone_enabled` (None: unchanged) allows the card readers' standalone mode; turning it off puts
    every reader back in integrated mode (the terminal app refuses while one of them is taking a payment,
    through `STANDALONE_OFF_CHECKS`)."""
    if processor not in PaymentSettings.Processor.values:
        raise DomainError(_("Choose a payment processor from the list."))
    if payout_schedule not in PaymentSettings.PayoutSchedule.values:
        raise DomainError(_("Choose a payout schedule from the list."))
    row, created = PaymentSettings.objects.get_or_create(account=account)
    row = PaymentSettings.objects.select_for_update().get(pk=row.pk)
    before = None if created else snapshot(row, SETTINGS_FIELDS)
    row.processor = processor
    row.cash_discount_enabled = bool(cash_discount_enabled)
    row.payout_schedule = payout_schedule
    if standalone_enabled is not None:
        if row.standalone_enabled and not standalone_enabled:
            for check in STANDALONE_OFF_CHECKS:
                check(account=account)  # raises DomainError to refuse
        row.standalone_enabled = bool(standalone_enabled)
    row.save(update_fields=list(SETTINGS_FIELDS))
    audit_record(account=account, actor=actor, action="payment_settings.changed", target=row,
                 before=before, after=snapshot(row, SETTINGS_FIELDS))
    return row
