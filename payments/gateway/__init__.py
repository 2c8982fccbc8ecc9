"""The gateway port and its adapters, per payee.

A payment's money goes to one of two payees, each with its own processor account:
- MERCHANT: the shop, for its customers' payments (sales, subscriptions, pay links, terminal);
  PAYMENTS_GATEWAY with STRIPE_SECRET_KEY / STRIPE_PUBLISHABLE_KEY / STRIPE_WEBHOOK_SECRET;
- PLATFORM: us, the POS vendor, for what the merchant pays us (billing's invoices);
  PLATFORM_PAYMENTS_GATEWAY with the PLATFORM_STRIPE_* keys.
Both are the offline sandbox by default. `get_gateway(payee)` returns that payee's adapter; every
processor call about a payment goes to the gateway of its `Payment.payee`.
"""

import hashlib
from functools import cache

from django.conf import settings

from payments.gateway.base import Gateway

MERCHANT = "merchant"
PLATFORM = "platform"
PAYEES = (MERCHANT, PLATFORM)
_SETTINGS_PREFIX = {MERCHANT: "", PLATFORM: "PLATFORM_"}


def payee_setting(payee: str, name: str) -> str:
    """The payee's own value of a payments setting: payee_setting(PLATFORM, "STRIPE_WEBHOOK_SECRET") is
    settings.PLATFORM_STRIPE_WEBHOOK_SECRET."""
    try:
        prefix = _SETTINGS_PREFIX[payee]
    except KeyError:
        raise ValueError(f"unknown payee {payee!r}; one of {', '.join(PAYEES)}") from None
    return getattr(settings, prefix + name)


@cache
def _build(name: str, secret_key: str, publishable_key: str, api_base: str, per_second: int) -> Gateway:
    """One adapter per processor account: payees on the same account (both on the sandbox, by default) share
    it — reconciliation reads each account once — and, with a rate limit, share its count."""
    if name == "stripe":
        from payments.gateway.stripe import StripeGateway

        gateway = StripeGateway(secret_key=secret_key, publishable_key=publishable_key, api_base=api_base)
    else:
        from payments.gateway.sandbox import SandboxGateway

        gateway = SandboxGateway()
    if per_second:
        from payments.gateway.pacing import PacedGateway, RateWindow

        # The account, not its secret, names the count in Redis.
        account = hashlib.sha256(f"{name}:{secret_key}".encode()).hexdigest()[:16]
        return PacedGateway(gateway, RateWindow(account, per_second))
    return gateway


def get_gateway(payee: str) -> Gateway:
    """The adapter of this payee's processor account (MERCHANT or PLATFORM)."""
    return _build(payee_setting(payee, "PAYMENTS_GATEWAY"), payee_setting(payee, "STRIPE_SECRET_KEY"),
                  payee_setting(payee, "STRIPE_PUBLISHABLE_KEY"), settings.STRIPE_API_BASE,
                  settings.PROCESSOR_RATE_LIMIT)


def reset_gateway_cache() -> None:
    """Tests that switch a payee's gateway settings call this."""
    _build.cache_clear()
