from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import (
    Account,
    AuditEvent,
    Membership,
    OutgoingEmail,
    Outlet,
    Register,
    StaffRole,
    ThirdPartyApp,
    User,
)
from posbackoffice.admin import ReadOnlyAdmin


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "language", "is_active", "is_staff"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name", "language"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "password1", "password2"]})]
    filter_horizontal = []
    list_filter = ["is_active", "is_staff"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "currency", "status", "addons", "created_at"]
    list_filter = ["status", "country"]
    search_fields = ["name"]
    readonly_fields = ["addons"]  # switched through accounts.services (Owner or Admin, audited)


@admin.register(Outlet, Register, StaffRole, Membership)
class TenantRowAdmin(admin.ModelAdmin):
    list_filter = ["account"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "actor", "action", "object_repr"]
    list_filter = ["account", "action"]


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """The e-mail outbox: what is queued, sent, or failed for good (with the kind of its last error)."""

    list_display = ["created_at", "account", "subject", "status", "tries", "last_error", "sent_at"]
    list_filter = ["status"]
    exclude = ["text", "html"]  # a password reset's body carries a live reset link

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ThirdPartyApp)
class ThirdPartyAppAdmin(admin.ModelAdmin):
    """The platform's catalogue of third-party apps merchants connect in Setup › Integrations."""

    list_display = ["name", "slug", "monthly_charge", "currency", "is_active"]
    list_filter = ["is_active", "currency"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
