"""An invoice as a PDF (WeasyPrint), in the reader's language: the platform, the shop, the period, the
lines, what the balance paid and what the card paid. Nothing outside is fetched: the stylesheet is in the
template and WeasyPrint is given no base address."""

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from billing.models import Invoice


def _no_fetching(url, *args, **kwargs):
    raise ValueError("the invoice fetches nothing")


def invoice_pdf(invoice: Invoice) -> bytes:
    from weasyprint import HTML

    html = render_to_string("billing/invoice_pdf.html", {"invoice": invoice, "lines": list(invoice.lines.all()),
                                                          "account": invoice.account})
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf()


def invoice_filename(invoice: Invoice) -> str:
    return _("invoice-%(number)s.pdf") % {"number": invoice.number}
