"""Demo data of the POS core. Idempotent."""

from retail.services.shop import shop_setup


def load(account, *, small: bool = False):
    shop_setup(account=account)
