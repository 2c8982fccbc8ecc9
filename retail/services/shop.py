from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.services import audit_record, snapshot
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError
from retail.models import PaymentType, ShopSettings, TaxRate

# French VAT rates: standard, intermediate, reduced, super-reduced.
DEFAULT_TAX_RATES = [("TVA 20 %", 2000, True), ("TVA 10 %", 1000, False), ("TVA 5,5 %", 550, False),
                     ("TVA 2,1 %", 210, False), ("Exonéré", 0, False)]


@transaction.atomic
def shop_setup(*, account, actor=None) -> ShopSettings:
    """Give an account what the POS core needs to sell: settings, tax rates and the system
    payment types. Idempotent: what exists is kept."""
    settings_row, created = ShopSettings.objects.get_or_create(account=account)
    if not scoped(TaxRate, account).exists():
        TaxRate.objects.bulk_create(
            TaxRate(account=account, name=name, rate_bp=rate, is_default=default)
            for name, rate, default in DEFAULT_TAX_RATES
        )
    with translation.override(account.language):
        defaults = [
            (PaymentType.Kind.CASH, _("Cash"), 1),
            (PaymentType.Kind.CARD, _("Credit/Debit"), 2),
            (PaymentType.Kind.ON_ACCOUNT, _("On account"), 9),
        ]
        for kind, name, position in defaults:
            if not scoped(PaymentType, account).filter(kind=kind).exists():
                PaymentType.objects.create(account=account, kind=kind, name=name, position=position)
    if created:
        audit_record(account=account, actor=actor, action="shop.set_up", target=settings_row,
                     after=snapshot(settings_row, ("prices_include_tax",)))
    return settings_row


@transaction.atomic
def shop_settings_update(*, actor, account, prices_include_tax: bool, receipt_footer: str) -> ShopSettings:
    row = scoped(ShopSettings, account).select_for_update().get()
    fields = ("prices_include_tax", "receipt_footer")
    before = snapshot(row, fields)
    row.prices_include_tax, row.receipt_footer = prices_include_tax, receipt_footer.strip()
    row.save(update_fields=list(fields))
    audit_record(account=account, actor=actor, action="shop.settings_changed", target=row,
                 before=before, after=snapshot(row, fields))
    return row


@transaction.atomic
def payment_type_create(*, actor, account, name: str, records_standalone: bool = False, now=None) -> PaymentType:
    """A merchant-defined type that records a payment without any processor
    (e.g. "Paiement terminal autonome"; `records_standalone` flags it as recording card payments taken on a
    reader in standalone mode, so the sale's void and return say the card is not refunded)."""
    name = name.strip()
    if not name:
        raise DomainError(_("A payment type needs a name."))
    if scoped(PaymentType, account).filter(name__iexact=name).exists():
        raise DomainError(_("A payment type named “%(name)s” already exists.") % {"name": name})
    payment_type = PaymentType.objects.create(account=account, kind=PaymentType.Kind.CUSTOM, name=name, position=5,
                                              records_standalone=bool(records_standalone))
    audit_record(account=account, actor=actor, action="payment_type.created", target=payment_type,
                 after=snapshot(payment_type, ("name", "kind", "records_standalone")), at=now)
    return payment_type


@transaction.atomic
def payment_type_set_active(*, actor, account, payment_type_id: int, active: bool) -> PaymentType:
    payment_type = scoped(PaymentType, account).select_for_update().get(pk=payment_type_id)
    if payment_type.kind != PaymentType.Kind.CUSTOM:
        raise DomainError(_("Built-in payment types cannot be switched off."))
    before = snapshot(payment_type, ("is_active",))
    payment_type.is_active = active
    payment_type.save(update_fields=["is_active"])
    audit_record(account=account, actor=actor, action="payment_type.changed", target=payment_type,
                 before=before, after=snapshot(payment_type, ("is_active",)))
    return payment_type

