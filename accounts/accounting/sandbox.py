"""The sandbox accounting system: offline and deterministic, the default for `make run` and the tests.
It keeps what it "received" in its own table (SandboxAccountingDocument, apart from the merchant's
records) and honours an idempotency key the way Xero does: the same key and reference answer the
document already made. Its ids are derived from the tenant and the reference, so a demo is the same on
every load. An organisation named with "unavailable" answers AccountingUnavailable, for trying the
failure path by hand."""

import dataclasses
import hashlib
import json
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from accounts.accounting.base import Connection, Document, Organisation
from accounts.models import SandboxAccountingDocument


def _stable_id(*parts: str) -> str:
    return str(uuid.UUID(hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]))


def _payload(body) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(body), cls=DjangoJSONEncoder))


class SandboxAdapter:
    """The accounting port (base.AccountingAdapter), connecting at once: no consent page."""

    name = "sandbox"

    def connect(self, *, account_name: str, code: str = "", redirect_uri: str = "") -> Organisation:
        return Organisation(tenant_id=_stable_id("sandbox-tenant", account_name),
                            name=f"{account_name} (sandbox)")

    @transaction.atomic
    def post(self, *, connection: Connection, documents: list[Document], idempotency_key: str) -> dict[str, str]:
        answered = {}
        for document in documents:
            existing = SandboxAccountingDocument.objects.filter(
                tenant_id=connection.tenant_id, idempotency_key=idempotency_key, reference=document.reference).first()
            if existing is None:
                existing = SandboxAccountingDocument.objects.create(
                    tenant_id=connection.tenant_id, idempotency_key=idempotency_key, kind=document.kind,
                    reference=document.reference, payload=_payload(document.body),
                    external_id=_stable_id(connection.tenant_id, document.reference, idempotency_key))
            answered[document.reference] = existing.external_id
        return answered
