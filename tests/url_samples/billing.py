"""Samples for billing: an invoice of the account (its PDF)."""

import datetime

from billing.models import Invoice, InvoiceLine


def _invoice(account):
    count = Invoice.objects.filter(account=account).count() + 1
    invoice = Invoice.objects.create(account=account, number=f"T{account.pk:05d}-{count:05d}", kind=Invoice.Kind.PLAN,
                                     status=Invoice.Status.PAID, period_start=datetime.date(2026, 3, count),
                                     period_end=datetime.date(2026, 4, count), currency=account.currency, total=1500)
    InvoiceLine.objects.create(invoice=invoice, description="Plan", quantity=1, unit_amount=1500, amount=1500)
    return {"invoice_id": invoice.pk}


SAMPLES = {"billing:invoice_pdf": _invoice}
