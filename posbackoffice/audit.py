"""The audit rows posbackoffice's own services write (a large export requested), and how they write
them: the audit log is accounts' (above us), which registers its writer, accounts.services.audit_record,
here in AccountsConfig.ready(). ACTION_LABELS are the Activity page's labels (accounts.audit)."""

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from posbackoffice.registry import Registry

ACTION_LABELS = {
    "export.requested": _("Export requested"),
}

# audit_record(*, account, actor, action, target=None, before=None, after=None, at=None)
WRITER: Registry[Callable] = Registry("audit writer", single=True)


def audit_record(**fields):
    """Append an audit row through the registered writer (inside the caller's transaction)."""
    writer = WRITER.first()
    if writer is None:
        raise LookupError(f"{WRITER!r}: accounts registers the audit writer in its ready()")
    return writer(**fields)
