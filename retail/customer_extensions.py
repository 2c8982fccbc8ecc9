"""What apps above retail (which retail must not import) add to customers, registered in their
AppConfig.ready — the same style as retail.sell_actions:

- sections of a customer's profile (PROFILE): saved_cards adds "Saved payment methods". A provider gets
  the request and the customer and answers None to leave its section out (e.g. the feature is off);
- filters of the Customers list: saved_cards adds "Card expiring". A filter is one more checkbox; the
  list and its CSV export keep only the customers it selects. It is offered where `available(account)`
  says so and ignored elsewhere (an old bookmarked address cannot filter by a feature that is off)."""

from collections.abc import Callable
from dataclasses import dataclass

from posbackoffice.extensions import Section, Sections

__all__ = ["PROFILE", "Section", "CustomerListFilter", "register_list_filter", "list_filters"]

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
