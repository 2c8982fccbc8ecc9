"""The xero accounting adapter (xero-python) against recorded responses: the SDK's HTTP pool is replaced by
a stub that answers what Xero answers (tests/accounts/recorded_xero/) and keeps every request, so the tests
see what we send (URLs, Idempotency-Key, the documents' fields) and how each answer is read."""

import datetime
import io
import json
import pathlib
from decimal import Decimal

import pytest
import urllib3

from accounts.accounting import base
from accounts.accounting.xero import XeroAdapter

RECORDED = pathlib.Path(__file__).parent / "recorded_xero"
DAY = datetime.date(2026, 12, 7)


class RecordedXero:
    """Stands in for urllib3's PoolManager: answers the queued recordings in order, keeps the requests."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def request(self, method, url, **kwargs):
        self.requests.append({"method": method, "url": url, **kwargs})
        if not self.answers:
            raise AssertionError(f"unexpected request {method} {url}")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, name = answer
        body = (RECORDED / name).read_bytes()
        return urllib3.HTTPResponse(body=io.BytesIO(body), status=status, preload_content=False,
                                    headers={"Content-Type": "application/json; charset=utf-8"}, reason="")

    def body(self, index):
        return json.loads(self.requests[index]["body"])


def adapter(stub) -> XeroAdapter:
    return XeroAdapter(client_id="CLIENTID", client_secret="SECRET", pool_manager=stub)


def connection(**fields) -> base.Connection:
    return base.Connection(tenant_id="70784a63-d24b-46a9-a4db-0e70a274b056", access_token="access-0",
                           refresh_token="refresh-0",
                           expires_at=fields.pop("expires_at", datetime.datetime.now(datetime.UTC)
                                                 + datetime.timedelta(minutes=20)), **fields)


def closure(object_id) -> base.Document:
    return base.Document(kind="closure", object_id=object_id, body=base.Journal(
        narration="Register closure: Register 1", date=DAY, currency="EUR",
        lines=(base.JournalLine("090", "Cash", 6190), base.JournalLine("200", "Cash", -6200),
               base.JournalLine("429", "Cash over/short", 10))))


def on_account(object_id, total) -> base.Document:
    return base.Document(kind="on_account_sale", object_id=object_id, body=base.Invoice(
        reference=f"Receipt {object_id}", contact_name="Jeanne Dupont", date=DAY, currency="EUR",
        amounts_include_tax=True, lines=(base.InvoiceLine("2 × Tea", total, total // 6, "200"),), total=total))


def test_the_authorisation_url_asks_for_offline_access_and_transactions():
    url = adapter(RecordedXero()).authorisation_url(state="signed", redirect_uri="https://shop.example/cb/")
    assert url.startswith("https://login.xero.com/identity/connect/authorize?response_type=code&client_id=CLIENTID")
    assert "scope=offline_access+accounting.transactions" in url and "state=signed" in url


def test_connect_exchanges_the_code_and_takes_the_organisation():
    stub = RecordedXero((200, "token.json"), (200, "connections.json"))

    organisation = adapter(stub).connect(account_name="Boutique Test", code="the-code",
                                         redirect_uri="https://shop.example/cb/")

    assert organisation.tenant_id == "70784a63-d24b-46a9-a4db-0e70a274b056"
    assert organisation.name == "Boutique Test SARL"
    assert organisation.access_token.endswith(".access-1.signature") and organisation.refresh_token.startswith("a4f1")
    assert organisation.expires_at > datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=25)
    token_request, connections_request = stub.requests
    assert (token_request["method"], token_request["url"]) == ("POST", "https://identity.xero.com/connect/token")
    assert dict(token_request["fields"]) == {"grant_type": "authorization_code", "code": "the-code",
                                       "redirect_uri": "https://shop.example/cb/"}
    assert token_request["headers"]["Authorization"].startswith("Basic ")
    assert connections_request["url"].lower() == "https://api.xero.com/connections"
    assert connections_request["headers"]["Authorization"] == f"Bearer {organisation.access_token}"


def test_a_refused_code_is_not_authorised():
    stub = RecordedXero((400, "validation_error.json"))
    with pytest.raises(base.AccountingNotAuthorised):
        adapter(stub).connect(account_name="Boutique Test", code="used", redirect_uri="https://shop.example/cb/")


def test_post_sends_manual_journals_and_invoices_with_idempotency_keys():
    stub = RecordedXero((200, "manual_journals.json"), (200, "invoices.json"))
    documents = [closure(1), closure(2), on_account(3, 2400), on_account(4, 1200)]

    answered = adapter(stub).post(connection=connection(), documents=documents, idempotency_key="pbo-1-post-abc")

    assert answered == {"closure-1": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                        "closure-2": "1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e",
                        "on_account_sale-3": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
                        "on_account_sale-4": "3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a"}
    journals, invoices = stub.requests
    assert journals["method"] == "PUT"
    assert journals["url"].lower().startswith("https://api.xero.com/api.xro/2.0/manualjournals?summarizeerrors=true")
    assert journals["headers"]["Idempotency-Key"] == "pbo-1-post-abc-j0"
    assert journals["headers"]["xero-tenant-id"] == "70784a63-d24b-46a9-a4db-0e70a274b056"
    assert journals["headers"]["Authorization"] == "Bearer access-0"
    sent = stub.body(0)["ManualJournals"][0]
    assert sent["Status"] == "POSTED" and sent["LineAmountTypes"] == "NoTax" and sent["Date"] == "/Date(1796601600000)/"
    assert [(line["AccountCode"], Decimal(str(line["LineAmount"]))) for line in sent["JournalLines"]] == [
        ("090", Decimal("61.90")), ("200", Decimal("-62.00")), ("429", Decimal("0.10"))]
    assert invoices["url"].lower().startswith("https://api.xero.com/api.xro/2.0/invoices?summarizeerrors=true")
    assert invoices["headers"]["Idempotency-Key"] == "pbo-1-post-abc-i0"
    invoice = stub.body(1)["Invoices"][0]
    assert (invoice["Type"], invoice["Status"], invoice["LineAmountTypes"], invoice["CurrencyCode"]) == (
        "ACCREC", "AUTHORISED", "Inclusive", "EUR")
    assert invoice["Contact"]["Name"] == "Jeanne Dupont" and invoice["Reference"] == "Receipt 3"
    assert Decimal(str(invoice["LineItems"][0]["UnitAmount"])) == Decimal("24.00")


@pytest.mark.parametrize(("answer", "error"), [
    ((400, "validation_error.json"), base.AccountingRejected),
    ((401, "unauthorized.json"), base.AccountingNotAuthorised),
    ((429, "rate_limited.json"), base.AccountingUnavailable),
    ((503, "rate_limited.json"), base.AccountingUnavailable),
    (urllib3.exceptions.MaxRetryError(None, "https://api.xero.com/"), base.AccountingUnavailable),
])
def test_errors_become_the_ports_errors(answer, error):
    stub = RecordedXero(answer)
    with pytest.raises(error):
        adapter(stub).post(connection=connection(), documents=[closure(1)], idempotency_key="pbo-1-post-abc")


def test_an_answer_missing_documents_is_refused():
    stub = RecordedXero((200, "manual_journals.json"))
    with pytest.raises(base.AccountingRejected, match="count_mismatch"):
        adapter(stub).post(connection=connection(), documents=[closure(1)], idempotency_key="k")


def test_an_expired_access_token_is_renewed_and_handed_back():
    stub = RecordedXero((200, "token.json"), (200, "manual_journals.json"))
    expired = connection(expires_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1))

    adapter(stub).post(connection=expired, documents=[closure(1), closure(2)], idempotency_key="k")

    refresh, journals = stub.requests
    assert dict(refresh["fields"])["grant_type"] == "refresh_token"
    assert dict(refresh["fields"])["refresh_token"] == "refresh-0"
    assert journals["headers"]["Authorization"].endswith(".access-1.signature")
    assert expired.refreshed is not None and expired.refreshed.refresh_token.startswith("a4f1")
