"""What apps above retail (which retail must not import) add to customers, registered in their
AppConfig.ready into the registries below (posbackoffice.registry):

- sections of a customer's profile (PROFILE): saved_cards adds "Saved payment methods". A provider gets
  the request and the customer and answers None to leave its section out (e.g. the feature is off);
- filters of the Customers list (FILTERS, keyed by the query parameter, e.g. "card_expiring"):
  saved_cards adds "Card expiring". A filter is one more checkbox; the list and its CSV export keep only
  the customers it selects. It is offered where `available(account)` says so and ignored elsewhere (an
  old bookmarked address cannot filter by a feature that is off);
- listeners of a customer's changes (CHANGE_LISTENERS): saved_cards keeps the processor's copy of the
  customer (name, e-mail) in step. A listener is called inside the updating transaction with the names
  of the fields that changed, and schedules its own side effects on commit."""

from collections.abc import Callable
from dataclasses import dataclass

from posbackoffice.extensions import Section, Sections
from posbackoffice.registry import Registry

__all__ = ["PROFILE", "FILTERS", "CHANGE_LISTENERS", "Section", "CustomerListFilter", "list_filters",
           "customer_changed"]

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


# listener(*, account, customer, changed: frozenset[str]) -> None
CHANGE_LISTENERS: Registry[Callable] = Registry("customer change listeners")


def customer_changed(*, account, customer, changed: frozenset[str]) -> None:
    """Called by retail's customer_update when some of the customer's fields changed."""
    for listener in CHANGE_LISTENERS.values():
        listener(account=account, customer=customer, changed=changed)
