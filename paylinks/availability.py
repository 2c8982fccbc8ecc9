"""When pay links are offered (seed 003: not with Tyro, nor with the cash discount programme) and the account's
setting; and the row of an e-mail about a link. Read by the services and by the worker modules alike (which
must not import the services: they queue the tasks that run the workers)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.tenancy import scoped
from paylinks.models import PayLink, PayLinkEmail, PayLinkSettings
from payments.settings_services import payment_settings_of


def unavailable_reason(account) -> str:
    """Why online payments by e-mailed link cannot be offered to this account ("" when they can): not with
    Tyro as the processor, nor with the cash discount programme (seed 003)."""
    payment_settings = payment_settings_of(account)
    if payment_settings.processor == payment_settings.Processor.TYRO:
        return _("Online payments by e-mailed link are not available with Tyro as the payment processor.")
    if payment_settings.cash_discount_enabled:
        return _("Online payments by e-mailed link are not available while the cash discount programme is on.")
    return ""


def settings_of(account) -> PayLinkSettings:
    """The account's setting, or the defaults (unsaved, off) when it never saved it."""
    return scoped(PayLinkSettings, account).first() or PayLinkSettings(account=account)


def online_payments_on(account) -> bool:
    return settings_of(account).online_payments_enabled and not unavailable_reason(account)


def email_row(link: PayLink, kind: str, now=None) -> PayLinkEmail:
    """The row of an e-mail about the link, due to be rendered and queued (paylinks.mailing)."""
    return PayLinkEmail.objects.create(account=link.account, link=link, kind=kind, created_at=now or timezone.now())
