"""The account's balance with us: append-only entries (LedgerEntry) whose sum is the balance. Every entry
is written under the account's MerchantPlan lock (held by the caller), so a balance read there is the one
written against."""

from django.db.models import Sum
from django.utils import timezone

from accounts.tenancy import scoped
from billing.models import LedgerEntry


def balance(account) -> int:
    """The account's balance with us: the sum of its ledger entries (positive: credit)."""
    return scoped(LedgerEntry, account).aggregate(total=Sum("amount"))["total"] or 0


def ledger_add(*, account, kind: str, amount: int, description: str, invoice=None, at=None) -> LedgerEntry:
    """Append one entry (the caller holds the MerchantPlan's lock)."""
    return LedgerEntry.objects.create(account=account, kind=kind, amount=amount, currency=account.currency,
                                      description=description[:200], invoice=invoice,
                                      created_at=at or timezone.now())
