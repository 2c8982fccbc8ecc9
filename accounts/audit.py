"""What the Activity page calls each audit action and object type, in the reader's language.

Each app lists the action codes its services write in an `audit.py` module holding
`ACTION_LABELS = {code: gettext_lazy(...)}`; they are discovered once, on first use. An unknown code
is shown as it is written."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "account.created": _("Account created"),
    "account.settings_changed": _("General settings changed"),
    "account.addon_enabled": _("Add-on switched on"),
    "account.addon_disabled": _("Add-on switched off"),
    "outlet.created": _("Outlet created"),
    "register.created": _("Register created"),
    "staff_role.created": _("Staff role created"),
    "staff_role.updated": _("Staff role changed"),
    "membership.created": _("Staff member added"),
    "membership.role_changed": _("Staff member’s role changed"),
    "integration.accounting_connected": _("Xero connected"),
    "integration.accounting_disconnected": _("Xero disconnected"),
    "integration.accounting_posted": _("Posted to Xero"),
    "integration.app_connected": _("Third-party app connected"),
    "integration.app_cancelled": _("Third-party app cancelled"),
}

_labels: dict | None = None


def action_labels() -> dict:
    global _labels
    if _labels is None:
        merged = {}
        for config in apps.get_app_configs():
            if find_spec(f"{config.name}.audit") is not None:
                merged.update(getattr(import_module(f"{config.name}.audit"), "ACTION_LABELS", {}))
        _labels = merged
    return _labels


def action_label(code: str) -> str:
    return str(action_labels().get(code, code))


# Audit rows keep the model label they were written with (they are never rewritten); a model that has
# moved to another app since is read under its new label.
MOVED_MODELS = {"retail.exportjob": "posbackoffice.exportjob"}


def object_type_label(label_lower: str) -> str:
    """"retail.sale" → "sale" (the model's verbose name, translated); unknown types as written."""
    if not label_lower:
        return ""
    try:
        model = apps.get_model(MOVED_MODELS.get(label_lower, label_lower))
    except (LookupError, ValueError):
        return label_lower
    return str(model._meta.verbose_name)
