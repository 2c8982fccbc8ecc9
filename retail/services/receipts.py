from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

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
    """Render the receipt now, in the shop's language, and let the worker deliver it after commit."""
    from accounts.tasks import send_email

    with translation.override(sale.account.language):
        context = receipt_context(sale)
        subject = _("Your receipt %(number)s from %(shop)s") % {"number": sale.receipt, "shop": sale.account.name}
        body = render_to_string("retail/email/receipt.txt", context)
        html = render_to_string("retail/email/receipt.html", context)
    transaction.on_commit(lambda: send_email.delay(subject=subject, body=body, to=[to], html_body=html))
