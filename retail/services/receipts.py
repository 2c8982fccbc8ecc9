from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.services import email_queue
from accounts.tenancy import scoped
from retail.models import Sale, ShopSettings


def receipt_context(sale: Sale) -> dict:
    return {
        "sale": sale,
        "account": sale.account,
        "lines": list(sale.lines.all()),
        "payments": list(sale.payments.select_related("payment_type")),
        "footer": scoped(ShopSettings, sale.account_id).values_list("receipt_footer", flat=True)
        .first() or "",
    }


def queue_receipt_email(*, sale: Sale, to: str) -> None:
    """Render the receipt now, in the shop's language, and queue it in the sale's transaction: the
    worker delivers it after commit."""
    with translation.override(sale.account.language):
        context = receipt_context(sale)
        subject = _("Your receipt %(number)s from %(shop)s") % {"number": sale.receipt, "shop": sale.account.name}
        body = render_to_string("retail/email/receipt.txt", context)
        html = render_to_string("retail/email/receipt.html", context)
    email_queue(account=sale.account, to=[to], subject=subject, text=body, html=html)
