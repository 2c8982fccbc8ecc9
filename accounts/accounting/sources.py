"""What can be posted to the accounting system, from the apps that own it. The items (register closures,
on-account sales) live in retail, above accounts: retail registers a `PostingSource` per kind in its
AppConfig.ready, and accounts' integration services and pages ask them, never importing retail.

A source answers, for an account, the items not yet posted (it excludes those with an
`accounts.models.AccountingPosting` of its kind) as `UnpostedItem`s, and the `Document` to send for
some of them."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from accounts.accounting.base import Document
from posbackoffice.registry import Registry

__all__ = ["SOURCES", "PostingSource", "UnpostedItem", "unposted"]


@dataclass(frozen=True)
class UnpostedItem:
    kind: str
    object_id: int
    label: str  # "Register 1, 3 Dec 2026" / "Receipt 1042, Jane Doe": what the pages list
    date: datetime.datetime
    amount: int
    currency: str


@dataclass(frozen=True)
class PostingSource:
    label: Callable[[], str]  # the kind's name in the reader's language ("Register closures")
    unposted: Callable[..., list[UnpostedItem]]  # (account, *, limit=None, until=None) -> oldest first
    count: Callable[..., int]  # (account) -> how many are not posted
    documents: Callable[..., list[Document]]  # (account, object_ids) -> one Document per id still there


SOURCES: Registry[PostingSource] = Registry("accounting posting sources")


def unposted(account, *, limit: int | None = None) -> list[dict]:
    """[{"kind", "label", "count", "items"}] per registered source, in the registry's order."""
    return [{"kind": kind, "label": source.label(), "count": source.count(account),
             "items": source.unposted(account, limit=limit)}
            for kind, source in SOURCES.items()]
