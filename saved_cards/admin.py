"""Operator admin for saved payment methods: read only. Cards are added, made default and deleted
through saved_cards.services (locks, audit rows, the processor), never by editing a row here."""

from django.contrib import admin

from posbackoffice.admin import ReadOnlyAdmin
from saved_cards.models import CardCustomer, CardDetachment, CardInvite, CardSetup, SavedCard, SavedCardSettings


@admin.register(SavedCardSettings)
class SavedCardSettingsAdmin(ReadOnlyAdmin):
    list_display = ["account", "enabled", "terms_version", "terms_accepted_by", "terms_accepted_at"]
    list_select_related = ["account", "terms_accepted_by"]


@admin.register(SavedCard)
class SavedCardAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "customer", "brand", "last4", "exp_month", "exp_year", "is_default",
                    "is_expired", "source"]
    list_filter = ["is_default", "is_expired", "source", "processor"]
    search_fields = ["payment_method_id", "processor_customer_id", "last4"]
    list_select_related = ["account", "customer"]


@admin.register(CardCustomer)
class CardCustomerAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "customer", "processor", "processor_customer_id"]
    search_fields = ["processor_customer_id"]
    list_select_related = ["account", "customer"]


@admin.register(CardSetup)
class CardSetupAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "customer", "source", "outcome", "failure_code", "processor_setup_id"]
    list_filter = ["outcome", "source"]
    list_select_related = ["account", "customer"]


@admin.register(CardInvite)
class CardInviteAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "customer", "kind", "expires_at", "used_at", "attempts"]
    list_filter = ["kind"]
    list_select_related = ["account", "customer"]


@admin.register(CardDetachment)
class CardDetachmentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "processor", "payment_method_id", "tries", "last_error", "detached_at"]
    list_filter = ["processor"]
    search_fields = ["payment_method_id"]
    list_select_related = ["account"]
