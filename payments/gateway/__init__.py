"""The gateway port and its adapters. `get_gateway()` returns the configured one (PAYMENTS_GATEWAY)."""

from functools import cache

from django.conf import settings

from payments.gateway.base import Gateway


@cache
def _build(name: str) -> Gateway:
    if name == "stripe":
        from payments.gateway.stripe import StripeGateway

        return StripeGateway.from_settings()
    from payments.gateway.sandbox import SandboxGateway

    return SandboxGateway()


def get_gateway() -> Gateway:
    return _build(settings.PAYMENTS_GATEWAY)


def reset_gateway_cache() -> None:
    """Tests that switch PAYMENTS_GATEWAY call this."""
    _build.cache_clear()
