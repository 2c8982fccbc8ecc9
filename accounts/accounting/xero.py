"""The xero adapter: the accounting port on Xero's Accounting API through the official xero-python SDK.

- Connecting is Xero's OAuth2 authorisation-code flow: the merchant consents on Xero's page
  (`authorisation_url`), comes back with a code, which we exchange for tokens at Xero's identity server;
  the organisation is the first of the connections the tokens reach (`GET /connections`).
- A register closure is a POSTED manual journal (`PUT /ManualJournals`, amounts without tax), an
  on-account sale an AUTHORISED sales invoice (`PUT /Invoices`, type ACCREC), up to 50 a call, each call
  with an idempotency key (Xero's `Idempotency-Key` header) derived from ours, so a retry creates nothing
  twice. `summarizeErrors` stays on: a validation error refuses the whole call.
- Errors are mapped to the port's: 400 → AccountingRejected; 401/403 or a refused refresh →
  AccountingNotAuthorised; 429, 5xx and the network → AccountingUnavailable. Xero's text is not kept.
- Tokens renewed on the way (the SDK refreshes an expired access token) are handed back on the
  `Connection` (`refreshed`), for the caller to store.

Tested against recorded responses (tests/accounts/recorded_xero/) in Xero's documented shapes."""

import base64
import datetime
import json
import time
from decimal import Decimal
from urllib.parse import urlencode

import urllib3
from xero_python.accounting import AccountingApi
from xero_python.accounting.models import (
    Contact,
    CurrencyCode,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    ManualJournal,
    ManualJournalLine,
    ManualJournals,
)
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException, OAuth2Error
from xero_python.identity import IdentityApi

from accounts.accounting import base
from posbackoffice.money import CURRENCY_EXPONENTS

AUTHORISE_URL = "https://login.xero.com/identity/connect/authorize"
TOKEN_URL = "https://identity.xero.com/connect/token"
SCOPES = ["offline_access", "accounting.transactions"]
PER_CALL = 50
TIMEOUT = (5, 30)  # connect, read (seconds)


def _decimal(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-CURRENCY_EXPONENTS.get(currency, 2))


def _translate(error: Exception) -> base.AccountingError:
    if isinstance(error, OAuth2Error):
        return base.AccountingNotAuthorised()
    if isinstance(error, ApiException):
        status = error.status or 0
        if status in (401, 403):
            return base.AccountingNotAuthorised(f"http_{status}")
        if status == 400:
            return base.AccountingRejected("http_400")
        return base.AccountingUnavailable(f"http_{status}")
    return base.AccountingUnavailable(type(error).__name__)


class XeroAdapter:
    """The accounting port (base.AccountingAdapter) with Xero's consent page (base.AuthorisingAdapter)."""

    name = "xero"

    def __init__(self, *, client_id: str, client_secret: str, pool_manager=None):
        self.client_id, self.client_secret = client_id, client_secret
        self.pool_manager = pool_manager  # tests hand a recorded-response stub in place of urllib3's

    # ---- the SDK client --------------------------------------------------------------------------

    def _client(self, token: dict) -> tuple[ApiClient, dict]:
        store = {"token": token}
        client = ApiClient(
            Configuration(oauth2_token=OAuth2Token(client_id=self.client_id, client_secret=self.client_secret)),
            pool_threads=1, oauth2_token_getter=lambda: store["token"],
            oauth2_token_saver=lambda new: store.update(token=new, renewed=True))
        if self.pool_manager is not None:
            client.rest_client.pool_manager = self.pool_manager
        return client, store

    @staticmethod
    def _token(connection: base.Connection) -> dict:
        expires_at = connection.expires_at.timestamp() if connection.expires_at else None
        return {"access_token": connection.access_token, "refresh_token": connection.refresh_token,
                "scope": SCOPES, "token_type": "Bearer", "expires_at": expires_at,
                "expires_in": max(int((expires_at or time.time()) - time.time()), 0)}

    @staticmethod
    def _organisation_tokens(token: dict) -> dict:
        expires_at = token.get("expires_at") or (time.time() + int(token.get("expires_in") or 0))
        return {"access_token": token["access_token"], "refresh_token": token.get("refresh_token") or "",
                "expires_at": datetime.datetime.fromtimestamp(expires_at, tz=datetime.UTC)}

    # ---- connecting ------------------------------------------------------------------------------

    def authorisation_url(self, *, state: str, redirect_uri: str) -> str:
        return AUTHORISE_URL + "?" + urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES), "state": state})

    def connect(self, *, account_name: str, code: str = "", redirect_uri: str = "") -> base.Organisation:
        if not code:
            raise base.AccountingNotAuthorised("no_code")
        client, store = self._client({})
        try:
            basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            response, status, _headers = client.call_api(
                TOKEN_URL, "POST", header_params={
                    "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded",
                    "Authorization": f"Basic {basic}"},
                post_params={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
                auth_settings=None, _preload_content=False, _request_timeout=TIMEOUT)
            token = json.loads(response.data.decode())
            if status != 200 or "access_token" not in token:
                raise base.AccountingNotAuthorised(f"token_{status}")
            token.setdefault("expires_at", time.time() + int(token.get("expires_in") or 0))
            token["scope"] = SCOPES
            store["token"] = token
            connections = IdentityApi(client).get_connections(_request_timeout=TIMEOUT)
        except base.AccountingError:
            raise
        except (ApiException, OAuth2Error, urllib3.exceptions.HTTPError, ValueError, KeyError) as error:
            if isinstance(error, ApiException) and error.status == 400:  # invalid_grant: a used or stale code
                raise base.AccountingNotAuthorised("invalid_grant") from None
            raise _translate(error) from None
        organisations = [c for c in connections or [] if (c.tenant_type or "").upper() == "ORGANISATION"]
        if not organisations:
            raise base.AccountingRejected("no_organisation")
        chosen = organisations[0]
        return base.Organisation(tenant_id=str(chosen.tenant_id), name=chosen.tenant_name or "Xero",
                                 **self._organisation_tokens(store["token"]))

    # ---- posting ---------------------------------------------------------------------------------

    @staticmethod
    def _journal(body: base.Journal) -> ManualJournal:
        return ManualJournal(
            narration=body.narration[:4000], date=body.date, status="POSTED",
            line_amount_types=LineAmountTypes.NOTAX,
            journal_lines=[ManualJournalLine(line_amount=_decimal(line.amount, body.currency),
                                             account_code=line.account_code, description=line.description[:4000])
                           for line in body.lines])

    @staticmethod
    def _invoice(body: base.Invoice) -> Invoice:
        return Invoice(
            type="ACCREC", contact=Contact(name=body.contact_name[:255] or "—"), date=body.date,
            due_date=body.date, reference=body.reference[:255], currency_code=CurrencyCode(body.currency),
            status="AUTHORISED",
            line_amount_types=LineAmountTypes.INCLUSIVE if body.amounts_include_tax else LineAmountTypes.EXCLUSIVE,
            line_items=[LineItem(description=line.description[:4000], quantity=Decimal(1),
                                 unit_amount=_decimal(line.amount, body.currency), account_code=line.account_code,
                                 tax_amount=_decimal(line.tax_amount, body.currency))
                        for line in body.lines])

    def post(self, *, connection: base.Connection, documents: list[base.Document],
             idempotency_key: str) -> dict[str, str]:
        client, store = self._client(self._token(connection))
        api = AccountingApi(client)
        journals = [d for d in documents if isinstance(d.body, base.Journal)]
        invoices = [d for d in documents if isinstance(d.body, base.Invoice)]
        # (documents, key suffix, the call, the batch's body, the answer's list, the id attribute)
        kinds = [
            (journals, "j", api.create_manual_journals,
             lambda batch: ManualJournals(manual_journals=[self._journal(d.body) for d in batch]),
             "manual_journals", "manual_journal_id"),
            (invoices, "i", api.create_invoices,
             lambda batch: Invoices(invoices=[self._invoice(d.body) for d in batch]), "invoices", "invoice_id"),
        ]
        answered: dict[str, str] = {}
        try:
            for documents_of_kind, suffix, create, body, listed, attribute in kinds:
                for start in range(0, len(documents_of_kind), PER_CALL):
                    batch = documents_of_kind[start:start + PER_CALL]
                    made = create(connection.tenant_id, body(batch), summarize_errors=True,
                                  idempotency_key=f"{idempotency_key}-{suffix}{start // PER_CALL}",
                                  _request_timeout=TIMEOUT)
                    answered.update(self._ids(batch, getattr(made, listed), attribute))
        except base.AccountingError:
            raise
        except (ApiException, OAuth2Error, urllib3.exceptions.HTTPError, ValueError) as error:
            raise _translate(error) from None
        finally:
            if store.get("renewed"):
                connection.refreshed = base.Organisation(tenant_id=connection.tenant_id, name="",
                                                         **self._organisation_tokens(store["token"]))
        return answered

    @staticmethod
    def _ids(batch, made, attribute: str) -> dict[str, str]:
        made = list(made or [])
        if len(made) != len(batch):  # Xero answers one object per object sent, in order
            raise base.AccountingRejected("count_mismatch")
        return {document.reference: str(getattr(obj, attribute)) for document, obj in zip(batch, made, strict=True)}
