"""The accounting integration's port (`base`), its adapters (`sandbox`, `xero`) and the registry of what
can be posted (`sources`). `get_adapter()` answers the adapter ACCOUNTING_ADAPTER names, as
`payments.gateway.get_gateway` does for PAYMENTS_GATEWAY."""

from django.conf import settings

from accounts.accounting.base import AccountingAdapter

__all__ = ["get_adapter"]


def get_adapter(name: str | None = None) -> AccountingAdapter:
    name = name or settings.ACCOUNTING_ADAPTER
    if name == "xero":
        from accounts.accounting.xero import XeroAdapter

        return XeroAdapter(client_id=settings.XERO_CLIENT_ID, client_secret=settings.XERO_CLIENT_SECRET)
    from accounts.accounting.sandbox import SandboxAdapter

    return SandboxAdapter()
