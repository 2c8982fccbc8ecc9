"""The accounting port: what we send an accounting system (Xero), in our own words, and the errors it
answers with. Two adapters implement it: `sandbox` (offline, deterministic, its own table) and `xero`
(the official xero-python SDK). Amounts are integer minor units, dates are the shop's local days."""

import datetime
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class AccountingError(Exception):
    """Base of what an adapter raises; `code` says what went wrong (never the system's own text, which
    may echo what was sent)."""

    code = "error"

    def __init__(self, code: str | None = None):
        super().__init__(code or self.code)
        if code:
            self.code = code


class AccountingUnavailable(AccountingError):
    """The system could not be reached or did not answer in time: nothing was recorded, try again."""

    code = "unavailable"


class AccountingRejected(AccountingError):
    """The system refused what we sent (a validation error)."""

    code = "rejected"


class AccountingNotAuthorised(AccountingError):
    """The organisation's authorisation was refused, expired or revoked: connect again."""

    code = "not_authorised"


@dataclass(frozen=True)
class JournalLine:
    account_code: str
    description: str
    amount: int  # positive: debit, negative: credit


@dataclass(frozen=True)
class Journal:
    """A manual journal (a register closure): its lines sum to zero."""

    narration: str
    date: datetime.date
    currency: str
    lines: tuple[JournalLine, ...]


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    amount: int  # the line's amount, tax included when the invoice's amounts include tax
    tax_amount: int
    account_code: str


@dataclass(frozen=True)
class Invoice:
    """A sales invoice (an on-account sale): what the customer owes."""

    reference: str
    contact_name: str
    date: datetime.date
    currency: str
    amounts_include_tax: bool
    lines: tuple[InvoiceLine, ...]
    total: int


@dataclass(frozen=True)
class Document:
    """One item to post: `kind` and `object_id` name our item, `body` what the system receives (None:
    nothing to send, such as an empty closure — recorded as posted without a call)."""

    kind: str
    object_id: int
    body: Journal | Invoice | None

    @property
    def reference(self) -> str:
        return f"{self.kind}-{self.object_id}"


@dataclass(frozen=True)
class Organisation:
    """What a connection gives us: the organisation, and the adapter's tokens (none for the sandbox)."""

    tenant_id: str
    name: str
    access_token: str = ""
    refresh_token: str = ""
    expires_at: datetime.datetime | None = None


@dataclass
class Connection:
    """What an adapter needs to post for an account (read from AccountingConnection); `refreshed` is set
    by the adapter when it renewed the tokens, so the caller stores them."""

    tenant_id: str
    access_token: str = ""
    refresh_token: str = ""
    expires_at: datetime.datetime | None = None
    refreshed: Organisation | None = field(default=None)


class AccountingAdapter(Protocol):
    """One accounting system. Implementations: accounts.accounting.sandbox.SandboxAdapter (offline, the
    default) and accounts.accounting.xero.XeroAdapter."""

    name: str  # "sandbox" or "xero": stored on the connection, which posts through the adapter it was made with

    def connect(self, *, account_name: str, code: str = "", redirect_uri: str = "") -> Organisation:
        """The organisation the merchant connects: at once, or with the `code` the consent page gave."""
        ...

    def post(self, *, connection: Connection, documents: list[Document], idempotency_key: str) -> dict[str, str]:
        """Send the documents (each has a body) in as few calls as the system allows; answer
        {document.reference: the system's id}. All or nothing from our side: any error raises, and the
        caller records nothing (a retry with the same key creates nothing twice)."""
        ...


@runtime_checkable
class AuthorisingAdapter(AccountingAdapter, Protocol):
    """An adapter whose connecting sends the merchant to the system's own consent page (OAuth2) and back:
    Xero. The sandbox connects at once and has no such page, so the port itself does not ask for one;
    the view redirects only an adapter that is an AuthorisingAdapter."""

    def authorisation_url(self, *, state: str, redirect_uri: str) -> str:
        """The consent page, which sends the merchant back to `redirect_uri` with a code and `state`."""
        ...
