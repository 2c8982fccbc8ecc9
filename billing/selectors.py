"""Reads of Setup › Billing: what the platform charged this merchant (Payment rows whose payee is the
platform, paid on the platform's own processor account; Finance › Payments never shows them), the
balance's entries, the invoices, the plans and their prices."""

from accounts.tenancy import scoped
from payments.models import Payment

# The page lists the newest charges; the merchant's invoices (with their own pages) arrive with billing.
CHARGES_SHOWN = 100


def platform_charges(account) -> list[Payment]:
    return list(scoped(Payment, account).filter(payee=Payment.Payee.PLATFORM)
                .order_by("-created_at", "-id")[:CHARGES_SHOWN])


LEDGER_SHOWN = 50
INVOICES_SHOWN = 50


def ledger_entries(account) -> list:
    from billing.models import LedgerEntry

    return list(scoped(LedgerEntry, account).order_by("-created_at", "-id")[:LEDGER_SHOWN])


def invoices(account) -> list:
    from billing.models import Invoice

    return list(scoped(Invoice, account).select_related("payment").order_by("-created_at", "-id")[:INVOICES_SHOWN])


def plans_with_prices(currency: str, *, current_only: bool = True) -> list[dict]:
    """The plans (current ones first by rank) with their monthly and yearly prices per licence in `currency`."""
    from billing.features import feature_labels
    from billing.models import Plan, PlanPrice

    plans = Plan.objects.order_by("legacy", "rank", "code")
    if current_only:
        plans = plans.filter(legacy=False)
    prices = {}
    for price in PlanPrice.objects.filter(currency=currency, plan__in=plans):
        prices[(price.plan_id, price.licence, price.frequency)] = price.amount
    return [{"plan": plan, "features": feature_labels(plan.features),
             "prices": {f"{licence}_{frequency}": prices.get((plan.pk, licence, frequency))
                        for licence in ("outlet", "register") for frequency in ("monthly", "yearly")}}
            for plan in plans]
