import datetime
import json

from django.db.models import F, Q
from django.utils import timezone

from accounts.audit import action_label, object_type_label
from accounts.models import AuditEvent, Membership, Notification, OutgoingEmail, Outlet, Register, StaffRole, User
from accounts.tenancy import scoped
from posbackoffice import jobs

# The sweep leaves a just-queued e-mail to its own task for this long.
EMAIL_SWEEP_GRACE = datetime.timedelta(seconds=30)


def staff_members(account):
    return scoped(Membership, account).select_related("user", "role").order_by("user__email")


def staff_users(account):
    return User.objects.filter(memberships__account=account).order_by("email")


def staff_roles(account):
    return scoped(StaffRole, account).order_by("id")


def outlets_with_registers(account):
    return scoped(Outlet, account).prefetch_related("registers").order_by("name")


def registers(account):
    return scoped(Register, account).select_related("outlet")


def activity_events(account, *, action=None, actor=None, date_from=None, date_to=None, q=None):
    events = scoped(AuditEvent, account).select_related("actor")
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_id=actor)
    tz = timezone.get_current_timezone()
    if date_from:
        events = events.filter(created_at__gte=datetime.datetime.combine(date_from, datetime.time.min, tz))
    if date_to:
        end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tz)
        events = events.filter(created_at__lt=end)
    if q:
        events = events.filter(Q(object_repr__icontains=q) | Q(object_type__icontains=q) | Q(object_id=q))
    return events.order_by("-created_at", "-id")


def activity_rows(events) -> list[dict]:
    """The Activity page's rows: each event with its action and object type in the reader's words and
    its before/after as indented JSON."""
    def pretty(value):
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) if value is not None else ""

    return [{"event": event, "action": action_label(event.action), "type": object_type_label(event.object_type),
             "before": pretty(event.before), "after": pretty(event.after)} for event in events]


def emails_due(now) -> list[int]:
    """Queued e-mails no worker holds and whose retry (if any) is due: their first task was lost (broker
    down, worker killed) or their retry message was. Uses the outgoing_email_due partial index."""
    return list(OutgoingEmail.objects.filter(jobs.unclaimed(now), status=OutgoingEmail.Status.QUEUED,
                                             created_at__lt=now - EMAIL_SWEEP_GRACE)
                .order_by("created_at").values_list("pk", flat=True)[:jobs.SWEEP_LIMIT])


BELL_SIZE = 10  # the newest notifications the bell lists


def bell(user, account) -> dict:
    """The header bell: how many notifications are unread, and the newest ones (unread first)."""
    mine = scoped(Notification, account).filter(user=user)
    unread = mine.filter(read_at__isnull=True)
    return {"bell_unread": unread.count(),
            "bell_notifications": list(mine.order_by(F("read_at").desc(nulls_first=True), "-created_at", "-id")
                                       [:BELL_SIZE])}
