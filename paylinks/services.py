"""State changes of pay links (seed 003). Lock order: the sale, then its links (pk order), then the
customer — the order of retail's sale services, which tell us of a sale's money inside their own
transaction (retail.sale_extensions.LISTENERS)."""

import math
import secrets

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.guard import require_customer_money_allowed
from accounts.services import audit_record, notification_create, reader_language, snapshot
from accounts.tenancy import scoped
from paylinks.availability import email_row, online_payments_on, unavailable_reason
from paylinks.models import PayLink, PayLinkEmail, PayLinkSettings
from payments.models import Payment
from posbackoffice import jobs
from posbackoffice.errors import DomainError
from posbackoffice.money import exponent, format_money
from retail.models import Sale
from retail.services.customers import clean_single_email

SETTINGS_FIELDS = ("online_payments_enabled", "reminder_days")
MAX_REMINDER_DAYS = 90
LANGUAGES = ("fr", "en")
ADVISORY_LOCK_SPACE = 3003  # pg_advisory_xact_lock's first key: pay link attempts (seed 003)


# ---- the setting and when it is offered --------------------------------------------------------------

@transaction.atomic
def paylink_settings_update(*, actor, account, online_payments_enabled: bool,
                            reminder_days: int | None) -> PayLinkSettings:
    """Setup › On-account: "Enable online payments" (refused while they are not available), and the
    reminder of unpaid links after `reminder_days` days (None: off)."""
    reason = unavailable_reason(account)
    if online_payments_enabled and reason:
        raise DomainError(reason)
    if reminder_days is not None and not 1 <= reminder_days <= MAX_REMINDER_DAYS:
        raise DomainError(_("Remind after 1 to %(max)s days, or leave it empty for no reminders.")
                          % {"max": MAX_REMINDER_DAYS})
    row, created = PayLinkSettings.objects.get_or_create(account=account)
    row = PayLinkSettings.objects.select_for_update().get(pk=row.pk)
    before = None if created else snapshot(row, SETTINGS_FIELDS)
    row.online_payments_enabled, row.reminder_days = bool(online_payments_enabled), reminder_days
    row.save(update_fields=list(SETTINGS_FIELDS))
    audit_record(account=account, actor=actor, action="paylinks.settings_changed", target=row, before=before,
                 after=snapshot(row, SETTINGS_FIELDS))
    return row


def amount_bounds(currency: str) -> tuple[int, int]:
    """The least and the most one link may ask, in minor units: 0.50 and 1,000,000 of the currency."""
    scale = 10 ** exponent(currency)
    return math.ceil(scale / 2), 1_000_000 * scale


def check_amount(amount: int, currency: str) -> None:
    low, high = amount_bounds(currency)
    if not low <= amount <= high:
        raise DomainError(_("Online payments must be between %(low)s and %(high)s: this sale’s balance is "
                            "%(amount)s. No link was sent.") % {
            "low": format_money(low, currency), "high": format_money(high, currency),
            "amount": format_money(amount, currency)})


# ---- sending ---------------------------------------------------------------------------------------------

def _lock_sale(account, sale_id: int) -> Sale:
    sale = scoped(Sale, account).select_for_update(of=("self",)).select_related("customer").filter(pk=sale_id).first()
    if sale is None:
        raise DomainError(_("This sale does not exist."))
    return sale


def customer_language(account, sale: Sale) -> str:
    """The language the sale's customer reads (their profile's), else the shop's."""
    chosen = sale.customer.language_or(account.language) if sale.customer_id else account.language
    return chosen if chosen in LANGUAGES else account.language


def _active_links(sale: Sale) -> list[PayLink]:
    return list(PayLink.objects.select_for_update().filter(sale=sale, status=PayLink.Status.ACTIVE).order_by("pk"))


def _end(link: PayLink, *, ending: str, actor, now) -> None:
    before = {"status": link.status}
    link.status, link.ending, link.deactivated_at = PayLink.Status.DEACTIVATED, ending, now
    link.save(update_fields=["status", "ending", "deactivated_at"])
    audit_record(account=link.account, actor=actor, action="pay_link.deactivated", target=link, before=before,
                 after={"status": link.status, "ending": ending}, at=now)


def queue_email(link: PayLink, kind: str, now=None) -> PayLinkEmail:
    """The e-mail is a row first (rendered by a worker: paylinks.mailing), enqueued once committed."""
    from paylinks.tasks import send_pay_link_email

    email = email_row(link, kind, now)
    jobs.enqueue(send_pay_link_email, email.pk)
    return email


@transaction.atomic
def pay_link_send(*, actor, account, sale_id: int, email: str, language: str = "", now=None) -> PayLink:
    """E-mail the receipt of an on-account sale with a link to pay its balance (seed 003). The link asks for
    the sale's remaining balance, between 0.50 and 1,000,000 of the currency; sending again deactivates the
    sale's previous link. The e-mail (HTML and text, a PDF invoice attached) is rendered and sent by a worker
    once committed, in `language`, else the customer's (their profile's), else the shop's."""
    now = now or timezone.now()
    if not online_payments_on(account):
        raise DomainError(_("Online payments are not turned on: Setup › On-account sales."))
    require_customer_money_allowed(account)
    sale = _lock_sale(account, sale_id)
    if sale.status != Sale.Status.ON_ACCOUNT:
        raise DomainError(_("Only a sale on account can be paid by link."))
    if not (email or "").strip():
        raise DomainError(_("This customer has no e-mail address. Add one to their profile first."))
    email = clean_single_email(email)
    check_amount(sale.balance_due, sale.currency)
    language = language if language in LANGUAGES else customer_language(account, sale)
    for previous in _active_links(sale):
        _end(previous, ending=PayLink.Ending.REPLACED, actor=actor, now=now)
    link = PayLink.objects.create(
        account=account, sale=sale, key=secrets.token_urlsafe(32), amount=sale.balance_due, currency=sale.currency,
        sent_to=email, language=language, created_by=actor if getattr(actor, "pk", None) else None, created_at=now)
    audit_record(account=account, actor=actor, action="pay_link.sent", target=link,
                 after={"sale": sale.pk, "amount": link.amount, "sent_to": email, "language": language}, at=now)
    queue_email(link, PayLinkEmail.Kind.RECEIPT, now)
    return link


def sale_completed_on_account(*, actor, account, sale, values: dict[str, str]) -> None:
    """The sell screen's "Email a receipt with pay link to …" (retail.sale_extensions.COMPLETION_OPTIONS),
    inside sale_complete's transaction: a refusal (no or several addresses, an amount out of bounds)
    completes nothing."""
    if values.get("send_pay_link") != "1":
        return
    email = sale.customer.email if sale.customer_id else ""
    pay_link_send(actor=actor, account=account, sale_id=sale.pk, email=email)


@transaction.atomic
def pay_link_deactivate(*, actor, account, link_id: int, now=None) -> PayLink:
    """Finance › Payment links › Deactivate: the link stops working at once (its page shows an error)."""
    now = now or timezone.now()
    link = scoped(PayLink, account).filter(pk=link_id).first()
    if link is None:
        raise DomainError(_("This payment link does not exist."))
    _lock_sale(account, link.sale_id)  # the sale first, as every change of its links
    link = PayLink.objects.select_for_update().get(pk=link.pk)
    if link.status != PayLink.Status.ACTIVE:
        raise DomainError(_("This payment link is %(status)s; only an active link can be deactivated.")
                          % {"status": link.get_status_display().lower()})
    _end(link, ending=PayLink.Ending.STAFF, actor=actor, now=now)
    return link


# ---- paying ----------------------------------------------------------------------------------------------

def link_problem(link: PayLink | None, sale: Sale | None = None) -> str:
    """Why this link cannot be paid now ("" when it can): unknown, deactivated or replaced, paid, or a sale
    whose balance no longer matches what the link asks (paid or voided in store)."""
    if link is None:
        return _("This payment link is not valid. Check that it was copied whole, or ask the shop for a new one.")
    if link.status == PayLink.Status.COMPLETED:
        return _("This invoice has already been paid. Thank you!")
    if link.status == PayLink.Status.DEACTIVATED:
        return _("This payment link is no longer active. Contact the shop for a new one.")
    sale = sale or link.sale
    if sale.status != Sale.Status.ON_ACCOUNT or sale.balance_due != link.amount:
        return _("The amount of this invoice has changed since the link was sent. Contact the shop for a new link.")
    return ""


def _queue_attempts(link: PayLink) -> None:
    """Attempts to pay one link wait for each other here, on a lock of their own (a PostgreSQL advisory lock
    held until the transaction ends), before they ask for the sale's row: then at most one request at a time
    waits for the sale, which the payment's settlement updates. Many requests waiting for the same row while
    it is updated can deadlock one another in PostgreSQL; one at a time they only queue. (SQLite, in
    development, runs one writer at a time anyway.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_SPACE, link.pk % 2**31])


@transaction.atomic
def pay_link_start_payment(*, link_id: int, amount: int, payment_method_id: str) -> Payment:
    """The customer pays the link with a card (the card-entry module gave us a payment method id): our
    Payment row first (mode online, purpose the sale), committed before the processor is called
    (payments.services.charges.payment_charge). Whatever arrives at once — a double click, two tabs, a retry, fifty
    requests — queues on the link's row: the first writes the payment; the others find it pending (and are
    told to wait) or the link paid. The amount posted must be the link's: a changed form charges nothing."""
    from payments.services.charges import payment_create

    link = PayLink.objects.select_related("account").filter(pk=link_id).first()
    if link is None:
        raise DomainError(link_problem(None))
    _queue_attempts(link)
    sale = _lock_sale(link.account, link.sale_id)
    link = PayLink.objects.select_for_update(of=("self",)).select_related("account").get(pk=link.pk)
    if problem := link_problem(link, sale):
        raise DomainError(problem)
    if amount != link.amount:
        raise DomainError(_("The amount to pay is %(amount)s; nothing was charged.")
                          % {"amount": format_money(link.amount, link.currency)})
    if scoped(Payment, link.account).filter(sale=sale, status=Payment.Status.PENDING).exists():
        raise DomainError(_("A payment of this invoice is already being processed. Wait a moment, then reload "
                            "the page."))
    return payment_create(
        actor=None, account=link.account, amount=link.amount, currency=link.currency,
        method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.ONLINE, sale_id=sale.pk,
        payment_method_id=payment_method_id, receipt_email=link.sent_to,
        description=_("Pay link for receipt %(receipt)s") % {"receipt": sale.receipt})


def sale_money_changed(*, account, sale, event: str, actor, processor_payment_id: int | None = None,
                       at=None) -> None:
    """retail.sale_extensions.LISTENERS, inside retail's transaction (the sale is locked): the link's
    payment settled the sale → the link is completed (the staff member who made the sale is notified, the
    customer gets a confirmation); anything else that changed the balance (paid in store, voided, goods
    returned) deactivates the active link, whose amount no longer matches."""
    now = at or timezone.now()
    links = _active_links(sale)
    if not links:
        return
    payment = None
    if event == "payment_taken" and processor_payment_id is not None:
        payment = scoped(Payment, account).filter(pk=processor_payment_id, mode=Payment.Mode.ONLINE).first()
    for link in links:
        if payment is not None and payment.amount == link.amount:
            _complete(link, payment=payment, sale=sale, now=now)
        else:
            ending = PayLink.Ending.VOIDED if event == "voided" else PayLink.Ending.SETTLED
            _end(link, ending=ending, actor=actor, now=now)


def _complete(link: PayLink, *, payment: Payment, sale: Sale, now) -> None:
    before = {"status": link.status}
    link.status, link.paid_at, link.payment = PayLink.Status.COMPLETED, now, payment
    link.save(update_fields=["status", "paid_at", "payment"])
    audit_record(account=link.account, actor=None, action="pay_link.paid", target=link, before=before,
                 after={"status": link.status, "payment": payment.pk, "amount": payment.amount}, at=now)
    queue_email(link, PayLinkEmail.Kind.CONFIRMATION, now)
    seller = sale.created_by
    if seller is not None:
        from django.utils import translation

        with translation.override(reader_language(seller, link.account)):
            text = _("%(customer)s paid %(amount)s online for receipt %(receipt)s.") % {
                "customer": str(sale.customer) if sale.customer_id else link.sent_to,
                "amount": format_money(payment.amount, payment.currency), "receipt": sale.receipt}
        notification_create(account=link.account, user=seller, text=text,
                            url=reverse("retail:sale_detail", kwargs={"sale_id": sale.pk}), at=now)
