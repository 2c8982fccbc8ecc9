"""What apps above retail (which retail must not import) add to customers, registered in their
AppConfig.ready — the same style as retail.sell_actions:

- sections of a customer's profile (PROFILE): saved_cards adds "Saved payment methods". A provider gets
  the request and the customer and answers None to leave its section out (e.g. the feature is off);
- filters of the Customers list: saved_cards adds "Card expiring". A filter is one more checkbox; the
  list and its CSV export keep only the customers it selects. It is offered where `available(account)`
  says so and ignored elsewhere (an old bookmarked address cannot filter by a feature that is off);
- listeners of a customer's changes: saved_cards keeps the processor's copy of the customer (name,
  e-mail) in step. A listener is called inside the updating transaction with the names of the fields
  that changed, and schedules its own side effects on commit."""

from collections.abc import Callable
from dataclasses import dataclass

from posbackoffice.extensions import Section, Sections

__all__ = ["PROFILE", "Section", "CustomerListFilter", "register_list_filter", "list_filters",
           "register_change_listener", "customer_changed"]

PROFILE = Sections()


@dataclass(frozen=True)
class CustomerListFilter:
    key: str  # the query parameter, e.g. "card_expiring"
    label: str
    available: Callable  # (account) -> bool
    apply: Callable  # (queryset of Customer, account) -> queryset


FILTERS: dict[str, CustomerListFilter] = {}


def register_list_filter(list_filter: CustomerListFilter) -> None:
    FILTERS[list_filter.key] = list_filter


def list_filters(account) -> list[CustomerListFilter]:
    return [list_filter for list_filter in FILTERS.values() if list_filter.available(account)]


CHANGE_LISTENERS: list[Callable] = []  # (*, account, customer, changed: frozenset[str]) -> None


def register_change_listener(listener: Callable) -> None:
    CHANGE_LISTENERS.append(listener)


def customer_changed(*, account, customer, changed: frozenset[str]) -> None:
    """Called by retail's customer_update when some of the customer's fields changed."""
    for listener in CHANGE_LISTENERS:
        listener(account=account, customer=customer, changed=changed)
