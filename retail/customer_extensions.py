"""What apps above retail (which retail must not import) add to customers, registered in their
AppConfig.ready into the registries below (posbackoffice.registry):

- sections of a customer's profile (PROFILE): saved_cards adds "Saved payment methods". A provider gets
  the request and the customer and answers None to leave its section out (e.g. the feature is off);
- filters of the Customers list (FILTERS, keyed by the query parameter, e.g. "card_expiring"):
  saved_cards adds "Card expiring". A filter is one more checkbox; the list and its CSV export keep only
  the customers it selects. It is offered where `available(account)` says so and ignored elsewhere (an
  old bookmarked address cannot filter by a feature that is off)."""

from collections.abc import Callable
from dataclasses import dataclass

from posbackoffice.extensions import Section, Sections
from posbackoffice.registry import Registry

__all__ = ["PROFILE", "FILTERS", "Section", "CustomerListFilter", "list_filters"]

PROFILE = Sections("customer profile sections")


@dataclass(frozen=True)
class CustomerListFilter:
    label: str
    available: Callable  # (account) -> bool
    apply: Callable  # (queryset of Customer, account) -> queryset


FILTERS: Registry[CustomerListFilter] = Registry("Customers list filters")


def list_filters(account) -> list[tuple[str, CustomerListFilter]]:
    """(query parameter, filter) of the filters available to this account, in the registry's order."""
    return [(key, list_filter) for key, list_filter in FILTERS.items() if list_filter.available(account)]
