"""Payments whose refunds go through another app's page: the terminal app sends the refund of a standalone
card payment to the card reader first (the original card presented and confirmed there). A route is
`route(payment) -> url or None`; Finance › Payments' refund form posts to the first url a route gives, and
its own refund view refuses such a payment."""

from collections.abc import Callable

from posbackoffice.registry import Registry

ROUTES: Registry[Callable] = Registry("refund routes of other apps")


def route_for(payment) -> str | None:
    for route in ROUTES:
        url = route(payment)
        if url:
            return url
    return None
