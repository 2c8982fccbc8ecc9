"""Reads of Setup › Billing: what the platform charged this merchant (Payment rows whose payee is the
platform, paid on the platform's own processor account; Finance › Payments never shows them)."""

from accounts.tenancy import scoped
from payments.models import Payment

# The page lists the newest charges; the merchant's invoices (with their own pages) arrive with billing.
CHARGES_SHOWN = 100


def platform_charges(account) -> list[Payment]:
    return list(scoped(Payment, account).filter(payee=Payment.Payee.PLATFORM)
                .order_by("-created_at", "-id")[:CHARGES_SHOWN])
