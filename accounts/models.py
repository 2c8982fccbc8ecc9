from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from accounts import permissions as perms
from accounts.login import login_email
from posbackoffice.jobs import Leased


class Account(models.Model):
    """The merchant: the tenant every other row belongs to."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        # Put on hold by the merchant (billing): nothing runs; or only reports and exports stay readable.
        ON_HOLD = "on_hold", _("On hold")
        ON_HOLD_READABLE = "on_hold_readable", _("On hold (reports readable)")

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        FRENCH = "fr", _("French")

    name = models.CharField(_("name"), max_length=120)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code, e.g. FR"))
    currency = models.CharField(_("currency"), max_length=3, help_text=_("ISO 4217 code, e.g. EUR"))
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.FRENCH)
    # Read only through accounts.guard, which says what an account that is not active may still do.
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Codes of the add-ons switched on (accounts.addons), changed only by the add-on services.
    addons = models.JSONField(_("add-ons"), default=list, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = _("merchant account")

    def __str__(self):
        return self.name


class TenantModel(models.Model):
    """Base for every merchant-owned row: queries go through accounts.tenancy.scoped()."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class Outlet(TenantModel):
    name = models.CharField(_("name"), max_length=120)
    address = models.TextField(_("address"), blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = _("outlet")
        verbose_name_plural = _("outlets")
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="outlet_unique_name")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class Register(TenantModel):
    outlet = models.ForeignKey(Outlet, on_delete=models.PROTECT, related_name="registers")
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = _("register")
        verbose_name_plural = _("registers")
        constraints = [models.UniqueConstraint(fields=["outlet", "name"], name="register_unique_name")]
        ordering = ["outlet__name", "name"]

    def __str__(self):
        return f"{self.outlet.name} — {self.name}"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not login_email(email):
            raise ValueError("users need an e-mail address")
        user = self.model(email=login_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        """Sign-in: the user of this address, typed in any case."""
        return self.get(email=login_email(username))


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address; what they may do comes from Membership."""

    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    # Empty means: follow the merchant account's language.
    language = models.CharField(_("language"), max_length=5, choices=Account.Language.choices, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Operator access to the Django admin.")
    date_joined = models.DateTimeField(default=dj_timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(
            Lower("email"), name="user_email_unique_any_case",
            violation_error_message=_("A user with this e-mail address already exists."))]

    def __str__(self):
        return self.name or self.email

    def clean(self):
        """Forms that edit users (the operator admin) store the address in its one form, as create_user does."""
        super().clean()
        self.email = login_email(self.email)


class StaffRole(TenantModel):
    name = models.CharField(_("name"), max_length=80)
    preset = models.CharField(
        max_length=16,
        choices=[(p, p) for p in (perms.OWNER, perms.ADMIN, perms.MANAGER, perms.CASHIER, perms.CUSTOM)],
        default=perms.CUSTOM,
    )
    permissions = models.JSONField(default=list)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="staffrole_unique_name")]
        ordering = ["id"]

    def __str__(self):
        return self.name

    @property
    def is_owner(self) -> bool:
        return self.preset == perms.OWNER

    @property
    def may_hold_reserved(self) -> bool:
        return self.preset in (perms.OWNER, perms.ADMIN)

    def granted(self) -> frozenset[str]:
        # The Owner role always holds everything, whatever is stored: it cannot lose its rights.
        if self.is_owner:
            return perms.ALL_CODES
        return frozenset(self.permissions) & perms.ALL_CODES


class Membership(TenantModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.ForeignKey(StaffRole, on_delete=models.PROTECT, related_name="memberships")
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        constraints = [models.UniqueConstraint(fields=["account", "user"], name="membership_unique_user")]

    def __str__(self):
        return f"{self.user} @ {self.account_id} ({self.role})"


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk rewrites are refused like single-row ones: nothing changes an audit row once written."""

    def update(self, **kwargs):
        raise ValueError("audit events are append-only")

    def delete(self):
        raise ValueError("audit events are append-only")


class AuditEvent(TenantModel):
    """Append-only record of every state change a service makes: who, what, before and after."""

    # A user who acted cannot be deleted (deactivate them instead): the trail keeps its actors.
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["account", "-created_at"], name="audit_account_recent"),
            models.Index(fields=["account", "action", "-created_at"], name="audit_account_action"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        # Append-only: an audit row once written is never rewritten.
        if self.pk is not None and not self._state.adding:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit events are append-only")


class OutgoingEmail(Leased):
    """An e-mail to deliver, kept as a row (the outbox): rendered by the request in the reader's language,
    queued in the caller's transaction, delivered by the worker (accounts.tasks.deliver_email), retried
    with backoff; after MAX_TRIES it stays failed here, visible in the admin. Never the text of an
    exception: only its kind (`last_error`), since SMTP errors echo the addresses."""

    MAX_TRIES = 8

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # The merchant it is sent for; none for the platform's own mail (password resets).
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(max_length=998)
    text = models.TextField()
    html = models.TextField(blank=True)
    recipients = models.JSONField()  # a list of addresses
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    last_error = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"], condition=Q(status="queued"), name="outgoing_email_due")]

    def __str__(self):
        return self.subject


class OutgoingEmailAttachment(models.Model):
    email = models.ForeignKey(OutgoingEmail, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    mimetype = models.CharField(max_length=100)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self):
        return self.filename


class Notification(TenantModel):
    """A note for one staff member of an account (the header bell): written by a service when something
    happened that they should know of (a customer paid their pay link), rendered then in the reader's
    language, shown until they mark it read."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)  # a path on our site: where the note leads
    created_at = models.DateTimeField(default=dj_timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "account", "-created_at"], name="notification_user_recent")]

    def __str__(self):
        return self.text


# ---- Setup › Integrations: the accounting integration and third-party apps --------------------------

class AccountingConnection(TenantModel):
    """The account's accounting integration (Xero), at most one. Made by the adapter named in
    ACCOUNTING_ADAPTER (sandbox or xero); removed on disconnect (with its tokens)."""

    class Provider(models.TextChoices):
        XERO = "xero", "Xero"

    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.XERO)
    adapter = models.CharField(max_length=16)  # sandbox or xero: who answered the connection
    organisation_name = models.CharField(max_length=200)
    tenant_id = models.CharField(max_length=64)  # the organisation's id at the accounting system
    # The xero adapter's OAuth2 tokens (empty with the sandbox); never shown, never logged.
    access_token = models.TextField(blank=True)
    refresh_token = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    connected_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = _("accounting integration")
        verbose_name_plural = _("accounting integrations")
        constraints = [models.UniqueConstraint(fields=["account"], name="accountingconnection_one_per_account")]

    def __str__(self):
        return f"{self.get_provider_display()}: {self.organisation_name}"


class AccountingPosting(TenantModel):
    """One item (a register closure, an on-account sale) posted to the accounting system. The item lives
    in an app above accounts (retail), so it is named by kind and id rather than by a foreign key."""

    kind = models.CharField(max_length=32)  # a key of accounts.accounting.sources.SOURCES
    object_id = models.BigIntegerField()
    external_id = models.CharField(max_length=64)  # the manual journal's or invoice's id over there
    adapter = models.CharField(max_length=16)
    posted_at = models.DateTimeField()
    posted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("accounting posting")
        verbose_name_plural = _("accounting postings")
        constraints = [models.UniqueConstraint(fields=["account", "kind", "object_id"],
                                               name="accountingposting_once_per_item")]

    def __str__(self):
        return f"{self.kind} {self.object_id} → {self.external_id}"


class SandboxAccountingDocument(models.Model):
    """The sandbox accounting system's own table (what it "received"): apart from the merchant's records,
    keyed by the idempotency key the way Xero honours one, so a retried post creates nothing twice."""

    tenant_id = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=128)
    kind = models.CharField(max_length=32)
    reference = models.CharField(max_length=200)
    external_id = models.CharField(max_length=64, unique=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = "sandbox accounting document"
        constraints = [models.UniqueConstraint(fields=["tenant_id", "idempotency_key", "reference"],
                                               name="sandboxaccounting_idempotent")]

    def __str__(self):
        return f"{self.kind} {self.reference} → {self.external_id}"


class ThirdPartyApp(models.Model):
    """The platform's catalogue of third-party apps a merchant can connect (Django admin), each with
    the monthly charge it bills while connected — which continues while the account is on hold."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    monthly_charge = models.BigIntegerField(_("monthly charge (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("third-party app")
        verbose_name_plural = _("third-party apps")
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(monthly_charge__gte=0), name="thirdpartyapp_charge_positive")]

    def __str__(self):
        return self.name


class AppConnection(TenantModel):
    """A third-party app connected to the account; Cancel ends it (kept, with who and when: a page
    open in another tab cancels it once and then says so)."""

    app = models.ForeignKey(ThirdPartyApp, on_delete=models.PROTECT, related_name="connections")
    connected_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    connected_at = models.DateTimeField(default=dj_timezone.now)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("connected app")
        verbose_name_plural = _("connected apps")
        constraints = [models.UniqueConstraint(fields=["account", "app"], condition=Q(cancelled_at__isnull=True),
                                               name="appconnection_once_per_account")]

    def __str__(self):
        return str(self.app)
