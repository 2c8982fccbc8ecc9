"""Setup › Payments: each account's payment settings (processor, cash discount programme, payout
schedule). An account that never saved them has no row and gets the defaults."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.services import audit_record, snapshot
from accounts.tenancy import scoped
from payments.models import PaymentSettings
from posbackoffice.errors import DomainError

SETTINGS_FIELDS = ("processor", "cash_discount_enabled", "payout_schedule")


def payment_settings_of(account) -> PaymentSettings:
    """The account's settings, or the defaults (unsaved) when it never changed them."""
    return scoped(PaymentSettings, account).first() or PaymentSettings(account=account)


@transaction.atomic
def payment_settings_update(*, actor, account, processor: str, cash_discount_enabled: bool,
                            payout_schedule: str) -> PaymentSettings:
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
    row.save(update_fields=list(SETTINGS_FIELDS))
    audit_record(account=account, actor=actor, action="payment_settings.changed", target=row,
                 before=before, after=snapshot(row, SETTINGS_FIELDS))
    return row
