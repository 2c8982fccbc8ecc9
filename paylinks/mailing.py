"""The e-mails of a pay link, rendered by a worker (paylinks.tasks.send_pay_link_email) and handed to the
e-mail outbox: the receipt with its pay link and the PDF invoice (WeasyPrint), reminders, and the payment's
confirmation. Each is written in the language the link was sent in and the shop's time zone."""

import contextlib
import datetime
import zoneinfo

from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.services import email_queue
from paylinks.links import link_url
from paylinks.models import MAX_REMINDERS, PayLink, PayLinkEmail
from posbackoffice import jobs
from retail.models import Sale
from retail.services.receipts import receipt_context

# A worker holds an e-mail this long while rendering it (the PDF takes a fraction of a second).
RENDER_LEASE_SECONDS = 60
SWEEP_GRACE = datetime.timedelta(seconds=30)


def invoice_context(link: PayLink) -> dict:
    """The receipt's context (retail.services.receipts), with the amount the link asks, the taxes by rate
    and the link's address."""
    sale = Sale.objects.select_related("account", "customer", "outlet").get(pk=link.sale_id)
    context = receipt_context(sale)
    taxes: dict[int, int] = {}
    for line in context["lines"]:
        taxes[line.tax_rate_bp] = taxes.get(line.tax_rate_bp, 0) + line.tax_amount
    return context | {
        "link": link, "outlet": sale.outlet, "customer": sale.customer, "currency": sale.currency,
        "amount_due": link.amount, "taxes": [(rate / 100, amount) for rate, amount in sorted(taxes.items())],
        "url": link_url(link),
    }


@contextlib.contextmanager
def _localised(link: PayLink):
    """The link's language and the shop's time zone, for whatever is rendered in it."""
    with translation.override(link.language), timezone.override(zoneinfo.ZoneInfo(link.account.timezone)):
        yield


def invoice_pdf(link: PayLink) -> bytes:
    """The invoice as a PDF (WeasyPrint): the shop's name and address, the lines, taxes, totals and the
    amount due, in the link's language. No outside resource is fetched: the stylesheet is inline in the
    template and WeasyPrint is given no base address."""
    from weasyprint import HTML

    with _localised(link):
        html = render_to_string("paylinks/invoice.html", invoice_context(link))
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf()


def _no_fetching(url, *args, **kwargs):
    raise ValueError("the invoice fetches nothing")


def invoice_filename(link: PayLink) -> str:
    with _localised(link):
        return _("invoice-%(receipt)s.pdf") % {"receipt": link.sale.receipt}


SUBJECTS = {
    PayLinkEmail.Kind.RECEIPT: lambda shop, receipt: _("Your receipt %(receipt)s from %(shop)s: pay online")
    % {"receipt": receipt, "shop": shop},
    PayLinkEmail.Kind.REMINDER: lambda shop, receipt: _("Reminder: receipt %(receipt)s from %(shop)s is still "
                                                        "to pay") % {"receipt": receipt, "shop": shop},
    PayLinkEmail.Kind.CONFIRMATION: lambda shop, receipt: _("Payment received for receipt %(receipt)s from "
                                                            "%(shop)s") % {"receipt": receipt, "shop": shop},
}


def render_email(email: PayLinkEmail) -> tuple[str, str, str, list]:
    """(subject, text, html, attachments) of the e-mail, in the link's language."""
    link = email.link
    context = invoice_context(link) | {"kind": email.kind}
    attachments = []
    if email.kind != PayLinkEmail.Kind.CONFIRMATION:
        attachments.append((invoice_filename(link), invoice_pdf(link), "application/pdf"))
    with _localised(link):
        subject = SUBJECTS[email.kind](link.account.name, context["sale"].receipt)
        text = render_to_string("paylinks/email/pay_link.txt", context)
        html = render_to_string("paylinks/email/pay_link.html", context)
    return subject, text, html, attachments


def pay_link_email_run(*, email_id: int) -> PayLinkEmail | None:
    """Render the e-mail and queue it in the outbox, once: claimed, then queued and marked in one
    transaction. None when another worker holds it or it is done."""
    claim = jobs.claim(PayLinkEmail, email_id, seconds=RENDER_LEASE_SECONDS, tries=F("tries") + 1,
                       due=Q(queued_at__isnull=True, tries__lt=PayLinkEmail.MAX_TRIES))
    if claim is None:
        return None
    email = PayLinkEmail.objects.select_related("link__account", "link__sale").get(pk=email_id)
    if email.kind != PayLinkEmail.Kind.CONFIRMATION and email.link.status != PayLink.Status.ACTIVE:
        claim.release(queued_at=timezone.now())  # replaced or deactivated meanwhile: nothing to send
        return email
    subject, text, html, attachments = render_email(email)
    with transaction.atomic():
        outgoing = email_queue(account=email.account, to=[email.link.sent_to], subject=subject, text=text,
                               html=html, attachments=attachments)
        claim.release(queued_at=timezone.now(), email_id=outgoing.pk)
    email.refresh_from_db()
    return email


def pay_link_emails_due(now) -> list[int]:
    return list(PayLinkEmail.objects.filter(jobs.unclaimed(now), queued_at__isnull=True,
                                            tries__lt=PayLinkEmail.MAX_TRIES, created_at__lte=now - SWEEP_GRACE)
                .order_by("created_at").values_list("pk", flat=True)[:jobs.SWEEP_LIMIT])


def pay_links_to_remind(now) -> list[int]:
    """Active links that may be due a reminder (the service decides, under the link's lock)."""
    from paylinks.models import PayLinkSettings

    accounts = PayLinkSettings.objects.filter(reminder_days__isnull=False, online_payments_enabled=True)
    return list(PayLink.objects.filter(status=PayLink.Status.ACTIVE, reminders_sent__lt=MAX_REMINDERS,
                                       account__in=accounts.values("account"))
                .order_by("created_at").values_list("pk", flat=True)[:jobs.SWEEP_LIMIT])
