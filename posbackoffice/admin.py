"""What the apps' operator admins share. Registers nothing itself."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """A table operators may read but never edit: its rows change through services (locks, audit rows,
    the processor), or are append-only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
