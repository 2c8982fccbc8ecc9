"""State changes of Setup › Integrations (split from accounts.services by concept): the accounting
integration (connect, disconnect, Post now) and the third-party apps (connect, Cancel). Each checks the
actor's role (`manage_integrations`; Owner and Admin hold it), runs in a transaction, locks what it
changes and writes an audit row."""

import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.accounting import get_adapter
from accounts.accounting.base import (
    AccountingError,
    AccountingNotAuthorised,
    AccountingRejected,
    Connection,
    Organisation,
)
from accounts.accounting.sources import SOURCES
from accounts.models import AccountingConnection, AccountingPosting, AppConnection, Membership, ThirdPartyApp
from accounts.services import audit_record
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError, NotAllowed

PERMISSION = "manage_integrations"
# Items sent per "Post now" (Xero takes up to 50 documents a call; the adapter splits them).
POST_LIMIT = 200


def _require_manage(actor, account) -> None:
    membership = (scoped(Membership, account).select_related("role").filter(user=actor).first()
                  if getattr(actor, "pk", None) else None)
    if membership is None or PERMISSION not in membership.role.granted():
        raise NotAllowed(_("Your staff role does not allow managing integrations."))


def _connection_state(connection: AccountingConnection) -> dict:
    return {"provider": connection.provider, "adapter": connection.adapter,
            "organisation": connection.organisation_name, "tenant_id": connection.tenant_id}


def _locked_connection(account) -> AccountingConnection | None:
    return scoped(AccountingConnection, account).select_for_update().first()


def _store_tokens(connection: AccountingConnection, organisation: Organisation) -> None:
    connection.access_token, connection.refresh_token = organisation.access_token, organisation.refresh_token
    connection.token_expires_at = organisation.expires_at


def _refused(error: AccountingError) -> DomainError:
    if isinstance(error, AccountingNotAuthorised):
        return DomainError(_("Xero no longer accepts this connection: disconnect Xero and connect it again. "
                             "Nothing was changed."), code=error.code)
    if isinstance(error, AccountingRejected):
        return DomainError(_("Xero refused what we sent. Nothing was marked as posted; check the Xero "
                             "organisation's settings and try again."), code=error.code)
    return DomainError(_("Xero could not be reached. Nothing was posted; try again in a moment."), code=error.code)


@transaction.atomic
def accounting_connect(*, actor, account, code: str = "", redirect_uri: str = "", now=None) -> AccountingConnection:
    """Connect the account's Xero organisation: at once with the sandbox; with Xero, after the merchant
    consented on Xero's page (`code`, from the callback)."""
    now = now or timezone.now()
    _require_manage(actor, account)
    if _locked_connection(account) is not None:
        raise DomainError(_("Xero is already connected."))
    adapter = get_adapter()
    try:
        organisation = adapter.connect(account_name=account.name, code=code, redirect_uri=redirect_uri)
    except AccountingError as error:
        raise _refused(error) from None
    connection = AccountingConnection(account=account, adapter=adapter.name, tenant_id=organisation.tenant_id,
                                      organisation_name=organisation.name[:200], connected_by=actor,
                                      connected_at=now)
    _store_tokens(connection, organisation)
    connection.save()
    audit_record(account=account, actor=actor, action="integration.accounting_connected", target=connection,
                 after=_connection_state(connection), at=now)
    return connection


@transaction.atomic
def accounting_disconnect(*, actor, account, now=None) -> None:
    """Disconnect Xero: the connection and its tokens are removed; what was posted stays posted."""
    now = now or timezone.now()
    _require_manage(actor, account)
    connection = _locked_connection(account)
    if connection is None:
        raise DomainError(_("Xero is not connected."))
    before = _connection_state(connection)
    audit_record(account=account, actor=actor, action="integration.accounting_disconnected", target=connection,
                 before=before, at=now)
    connection.delete()


def _idempotency_key(account, documents) -> str:
    # The same set of items gives the same key: a retry after an answer we never recorded creates nothing
    # twice at Xero (which honours a key for a while), and the sandbox honours it the same way.
    digest = hashlib.sha256(",".join(sorted(d.reference for d in documents)).encode()).hexdigest()
    return f"pbo-{account.pk}-post-{digest[:48]}"


@transaction.atomic
def accounting_post_now(*, actor, account, now=None, until=None) -> dict[str, int]:
    """Post every closure and on-account sale not yet posted (up to POST_LIMIT; with `until`, those
    closed or completed by then), mark them posted and audit it. The connection row stays locked during
    the call, so two "Post now" never send the same items; a failure raises a DomainError saying so and
    records nothing. Answers {kind: count posted}."""
    now = now or timezone.now()
    _require_manage(actor, account)
    connection = _locked_connection(account)
    if connection is None:
        raise DomainError(_("Connect Xero before posting."))
    documents = []
    for source in SOURCES.values():
        room = POST_LIMIT - len(documents)
        if room <= 0:
            break
        ids = [item.object_id for item in source.unposted(account, limit=room, until=until)]
        if ids:
            documents.extend(source.documents(account, ids))
    if not documents:
        raise DomainError(_("Everything is already posted to Xero."))
    to_send = [document for document in documents if document.body is not None]
    adapter = get_adapter(connection.adapter)
    port_connection = Connection(tenant_id=connection.tenant_id, access_token=connection.access_token,
                                 refresh_token=connection.refresh_token, expires_at=connection.token_expires_at)
    try:
        answered = (adapter.post(connection=port_connection, documents=to_send,
                                 idempotency_key=_idempotency_key(account, to_send)) if to_send else {})
    except AccountingError as error:
        raise _refused(error) from None
    if port_connection.refreshed is not None:  # the adapter renewed the tokens on the way
        _store_tokens(connection, port_connection.refreshed)
        connection.save(update_fields=["access_token", "refresh_token", "token_expires_at"])
    AccountingPosting.objects.bulk_create([
        AccountingPosting(account=account, kind=document.kind, object_id=document.object_id,
                          external_id=answered.get(document.reference, ""), adapter=connection.adapter,
                          posted_at=now, posted_by=actor)
        for document in documents])
    counts: dict[str, int] = {}
    for document in documents:
        counts[document.kind] = counts.get(document.kind, 0) + 1
    audit_record(account=account, actor=actor, action="integration.accounting_posted", target=connection,
                 after={"posted": counts, "documents": {d.reference: answered.get(d.reference, "") for d in documents}},
                 at=now)
    return counts


@transaction.atomic
def app_connect(*, actor, account, app_id: int, now=None) -> AppConnection:
    """Connect a third-party app from the platform's catalogue; its monthly charge starts."""
    now = now or timezone.now()
    _require_manage(actor, account)
    app = ThirdPartyApp.objects.filter(pk=app_id, is_active=True).first()
    if app is None:
        raise DomainError(_("This app is not offered."))
    if scoped(AppConnection, account).select_for_update().filter(app=app, cancelled_at__isnull=True).exists():
        raise DomainError(_("%(app)s is already connected.") % {"app": app.name})
    connection = AppConnection.objects.create(account=account, app=app, connected_by=actor, connected_at=now)
    audit_record(account=account, actor=actor, action="integration.app_connected", target=connection,
                 after={"app": app.slug, "monthly_charge": app.monthly_charge, "currency": app.currency}, at=now)
    return connection


@transaction.atomic
def app_cancel(*, actor, account, connection_id: int, now=None) -> None:
    """Cancel a connected app: its monthly charge stops (the reason to do it before a hold)."""
    now = now or timezone.now()
    _require_manage(actor, account)
    connection = (scoped(AppConnection, account).select_for_update().select_related("app")
                  .filter(pk=connection_id).first())
    if connection is None or connection.cancelled_at is not None:
        raise DomainError(_("This app is not connected."))
    connection.cancelled_at, connection.cancelled_by = now, actor
    connection.save(update_fields=["cancelled_at", "cancelled_by"])
    audit_record(account=account, actor=actor, action="integration.app_cancelled", target=connection,
                 before={"app": connection.app.slug, "monthly_charge": connection.app.monthly_charge,
                         "currency": connection.app.currency}, at=now)
