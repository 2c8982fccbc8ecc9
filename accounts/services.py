"""State changes of accounts, staff roles, memberships and users; the audit trail they write; and the
e-mail outbox every app sends through."""

import datetime
import logging
import uuid
import zoneinfo

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import addons
from accounts import permissions as perms
from accounts.login import login_email
from accounts.models import (
    Account,
    AuditEvent,
    Membership,
    Notification,
    OutgoingEmail,
    OutgoingEmailAttachment,
    Outlet,
    Register,
    StaffRole,
    User,
)
from accounts.tenancy import scoped
from posbackoffice import jobs
from posbackoffice.errors import DomainError, NotAllowed
from posbackoffice.money import CURRENCY_EXPONENTS

logger = logging.getLogger(__name__)


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_json_safe(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    return value


def snapshot(obj, fields) -> dict:
    """The audit view of a row: the named fields, JSON-safe (foreign keys as ids)."""
    return {name: _json_safe(getattr(obj, name)) for name in fields}


def audit_record(*, account, actor, action: str, target=None, before=None, after=None, at=None) -> AuditEvent:
    """Append an audit row. Called by services inside their own transaction; `at` is the moment the
    service read (now by default)."""
    row = audit_row(account=account, actor=actor, action=action, target=target, before=before, after=after, at=at)
    row.save(force_insert=True)
    return row


def audit_record_many(rows: list[AuditEvent]) -> None:
    """Append many audit rows (built with `audit_row`) in one INSERT: the batched jobs' audit."""
    AuditEvent.objects.bulk_create(rows, batch_size=2000)


def audit_row(*, account, actor, action: str, target=None, before=None, after=None, at=None) -> AuditEvent:
    """The audit row `audit_record` appends, not saved yet."""
    return AuditEvent(
        created_at=at or dj_timezone.now(),
        account=account,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        before=_json_safe(before) if before is not None else None,
        after=_json_safe(after) if after is not None else None,
    )


ACCOUNT_FIELDS = ("name", "country", "currency", "timezone", "language", "status")
ROLE_FIELDS = ("name", "preset", "permissions")


def _validate_account_settings(*, currency: str, tz: str, language: str) -> None:
    if currency not in CURRENCY_EXPONENTS:
        raise DomainError(_("Unsupported currency %(code)s.") % {"code": currency})
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DomainError(_("Unknown time zone %(tz)s.") % {"tz": tz}) from None
    if language not in Account.Language.values:
        raise DomainError(_("Unsupported language %(code)s.") % {"code": language})


@transaction.atomic
def account_create(
    *, name: str, country: str, currency: str, tz: str, language: str, owner: User, actor=None
) -> Account:
    """A new merchant account with the four preset roles and the given user as its Owner."""
    _validate_account_settings(currency=currency, tz=tz, language=language)
    account = Account.objects.create(
        name=name, country=country.upper(), currency=currency, timezone=tz, language=language
    )
    with translation.override(language):
        roles = _preset_roles(account)
    for preset, role in roles.items():
        role.permissions = sorted(perms.PRESET_PERMISSIONS[preset])
        role.save()
    Membership.objects.create(account=account, user=owner, role=roles[perms.OWNER])
    audit_record(account=account, actor=actor or owner, action="account.created", target=account,
                 after=snapshot(account, ACCOUNT_FIELDS))
    return account


def _preset_roles(account) -> dict[str, StaffRole]:
    # Named in the account's language: role names are the merchant's own data once created.
    return {
        perms.OWNER: StaffRole(account=account, name=_("Owner"), preset=perms.OWNER),
        perms.ADMIN: StaffRole(account=account, name=_("Admin"), preset=perms.ADMIN),
        perms.MANAGER: StaffRole(account=account, name=_("Manager"), preset=perms.MANAGER),
        perms.CASHIER: StaffRole(account=account, name=_("Cashier"), preset=perms.CASHIER),
    }


@transaction.atomic
def account_update_settings(*, actor, account_id: int, name: str, tz: str, language: str) -> Account:
    account = Account.objects.select_for_update().get(pk=account_id)
    _validate_account_settings(currency=account.currency, tz=tz, language=language)
    before = snapshot(account, ACCOUNT_FIELDS)
    account.name, account.timezone, account.language = name.strip(), tz, language
    if not account.name:
        raise DomainError(_("The shop needs a name."))
    account.save(update_fields=["name", "timezone", "language"])
    audit_record(account=account, actor=actor, action="account.settings_changed", target=account,
                 before=before, after=snapshot(account, ACCOUNT_FIELDS))
    return account


def require_owner_or_admin(actor, account, refusal: str) -> None:
    """Some switches belong to the Owner and Admin roles only, whatever the other roles' permissions
    say; `refusal` says which, in the actor's language."""
    membership = (scoped(Membership, account).select_related("role").filter(user=actor).first()
                  if getattr(actor, "pk", None) else None)
    if membership is None or not membership.role.may_hold_reserved:
        raise NotAllowed(refusal)


def _addon_switch(*, actor, account: Account, code: str, on: bool) -> Account:
    require_owner_or_admin(actor, account, _("Only the Owner and Admin roles can switch add-ons on or off."))
    if code not in addons.ALL_CODES:
        raise DomainError(_("Unknown add-on."))
    locked = Account.objects.select_for_update().get(pk=account.pk)
    before = sorted(addons.account_addons(locked))
    if (code in before) == on:
        message = _("The %(addon)s add-on is already on.") if on else _("The %(addon)s add-on is already off.")
        raise DomainError(message % {"addon": addons.addon_label(code)})
    locked.addons = sorted(set(before) | {code}) if on else [c for c in before if c != code]
    locked.save(update_fields=["addons"])
    account.addons = locked.addons
    now = dj_timezone.now()
    audit_record(account=locked, actor=actor, action="account.addon_enabled" if on else "account.addon_disabled",
                 target=locked, before={"addons": before}, after={"addons": locked.addons}, at=now)
    for listener in addons.CHANGE_LISTENERS.values():
        listener(actor=actor, account=locked, code=code, on=on, now=now)
    return locked


@transaction.atomic
def account_addon_enable(*, actor, account: Account, code: str) -> Account:
    """Switch an add-on on for the account (Owner or Admin). Billing prices and sells add-ons; the
    feature's pages, menu entry and tasks follow this switch (accounts.addons)."""
    return _addon_switch(actor=actor, account=account, code=code, on=True)


@transaction.atomic
def account_addon_disable(*, actor, account: Account, code: str) -> Account:
    """Switch an add-on off (Owner or Admin): the feature disappears from the menu, its pages say it is
    off and its tasks skip; its data stays, for when it is on again."""
    return _addon_switch(actor=actor, account=account, code=code, on=False)


@transaction.atomic
def outlet_create(*, actor, account: Account, name: str, address: str = "") -> Outlet:
    if scoped(Outlet, account).filter(name=name).exists():
        raise DomainError(_("An outlet named “%(name)s” already exists.") % {"name": name})
    outlet = Outlet.objects.create(account=account, name=name, address=address)
    audit_record(account=account, actor=actor, action="outlet.created", target=outlet,
                 after=snapshot(outlet, ("name", "address")))
    return outlet


@transaction.atomic
def register_create(*, actor, account: Account, outlet_id: int, name: str) -> Register:
    outlet = scoped(Outlet, account).get(pk=outlet_id)
    if Register.objects.filter(outlet=outlet, name=name).exists():
        raise DomainError(_("This outlet already has a register named “%(name)s”.") % {"name": name})
    register = Register.objects.create(account=account, outlet=outlet, name=name)
    audit_record(account=account, actor=actor, action="register.created", target=register,
                 after=snapshot(register, ("outlet", "name")))
    return register


def _clean_permissions(role_may_hold_reserved: bool, codes) -> list[str]:
    codes = set(codes)
    unknown = codes - perms.ALL_CODES
    if unknown:
        raise DomainError(_("Unknown permissions: %(codes)s.") % {"codes": ", ".join(sorted(unknown))})
    if not role_may_hold_reserved and codes & perms.RESERVED_CODES:
        labels = ", ".join(str(perms.BY_CODE[c].label) for c in sorted(codes & perms.RESERVED_CODES))
        raise NotAllowed(_("Only the Owner and Admin roles can hold: %(labels)s.") % {"labels": labels})
    return sorted(codes)


def _unique_role_name(account, name: str, exclude_pk=None) -> str:
    name = name.strip()
    if not name:
        raise DomainError(_("A staff role needs a name."))
    clash = scoped(StaffRole, account).filter(name__iexact=name).exclude(pk=exclude_pk)
    if clash.exists():
        raise DomainError(_("A staff role named “%(name)s” already exists.") % {"name": name})
    return name


@transaction.atomic
def staff_role_create(*, actor, account: Account, name: str, permissions) -> StaffRole:
    role = StaffRole(account=account, preset=perms.CUSTOM)
    role.name = _unique_role_name(account, name)
    role.permissions = _clean_permissions(False, permissions)
    role.save()
    audit_record(account=account, actor=actor, action="staff_role.created", target=role,
                 after=snapshot(role, ROLE_FIELDS))
    return role


@transaction.atomic
def staff_role_update(*, actor, account: Account, role_id: int, name: str, permissions) -> StaffRole:
    role = scoped(StaffRole, account).select_for_update().get(pk=role_id)
    if role.is_owner:
        raise NotAllowed(_("The Owner role always has every permission and cannot be changed."))
    before = snapshot(role, ROLE_FIELDS)
    role.name = _unique_role_name(account, name, exclude_pk=role.pk)
    role.permissions = _clean_permissions(role.may_hold_reserved, permissions)
    role.save(update_fields=["name", "permissions"])
    audit_record(account=account, actor=actor, action="staff_role.updated", target=role,
                 before=before, after=snapshot(role, ROLE_FIELDS))
    return role


@transaction.atomic
def membership_change_role(*, actor, account: Account, membership_id: int, role_id: int) -> Membership:
    membership = Membership.objects.select_for_update().select_related("role", "user").get(
        account=account, pk=membership_id
    )
    role = scoped(StaffRole, account).get(pk=role_id)
    if membership.role.is_owner:
        raise NotAllowed(_("The account owner keeps the Owner role."))
    if role.is_owner:
        raise NotAllowed(_("An account has one owner; the Owner role cannot be given to someone else."))
    before = {"role": membership.role_id}
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(account=account, actor=actor, action="membership.role_changed", target=membership,
                 before=before, after={"role": role.pk})
    return membership


@transaction.atomic
def staff_member_add(*, actor, account: Account, email: str, name: str, role_id: int, password=None) -> Membership:
    """Add a person to the account's staff, creating their user if they have none yet."""
    role = scoped(StaffRole, account).get(pk=role_id)
    if role.is_owner:
        raise NotAllowed(_("An account has one owner; the Owner role cannot be given to someone else."))
    email = login_email(email)
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, password, name=name.strip())
    elif scoped(Membership, account).filter(user=user).exists():
        raise DomainError(_("%(email)s is already on the staff.") % {"email": email})
    membership = Membership.objects.create(account=account, user=user, role=role)
    audit_record(account=account, actor=actor, action="membership.created", target=membership,
                 after={"user": user.email, "role": role.pk})
    return membership


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    if language not in Account.Language.values:
        raise DomainError(_("Unsupported language %(code)s.") % {"code": language})
    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.language = language
    locked.save(update_fields=["language"])
    user.language = language
    return locked



# ---- the e-mail outbox -----------------------------------------------------------------------------

@transaction.atomic
def email_queue(*, to: list[str], subject: str, text: str, html: str = "", account: Account | None = None,
                attachments: list[tuple[str, bytes, str]] = ()) -> OutgoingEmail:
    """Queue an e-mail (already rendered, in the reader's language) inside the caller's transaction: it
    exists exactly when the change it reports does. Delivery is enqueued once committed; if the broker
    is down, the sweep (accounts.tasks.send_due_emails) enqueues it later. `attachments`: (file name,
    content, MIME type), e.g. a PDF invoice."""
    from accounts.tasks import deliver_email

    email = OutgoingEmail.objects.create(account=account, subject=subject[:998], text=text, html=html or "",
                                         recipients=list(to))
    OutgoingEmailAttachment.objects.bulk_create([
        OutgoingEmailAttachment(email=email, filename=name, content=content, mimetype=mimetype)
        for name, content, mimetype in attachments])
    jobs.enqueue(deliver_email, email.pk)
    return email


# ---- notifications (the header bell) --------------------------------------------------------------

def reader_language(user: User, account: Account) -> str:
    """The language a staff member reads in: their own, else their account's."""
    return user.language or account.language


@transaction.atomic
def notification_create(*, account: Account, user: User, text: str, url: str = "", at=None) -> Notification:
    """A note for one staff member (already rendered in their language: `reader_language`), shown by the
    header bell until they mark it read. Written in the caller's transaction: it exists exactly when what
    it reports does."""
    return Notification.objects.create(account=account, user=user, text=text[:300], url=url[:300],
                                       created_at=at or dj_timezone.now())


@transaction.atomic
def notification_mark_read(*, user: User, account: Account, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications read (or all of them, without an id); how many changed.
    Another user's or another account's notification is simply not found (nothing changes)."""
    unread = scoped(Notification, account).filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=dj_timezone.now())
