"""Operator admin for our payment records: read only. Money moves and settings change through
payments.services and payments.settings_services (locks, audit rows), never by editing a row here."""

from django.contrib import admin

from payments.models import Payment, PaymentAttempt, PaymentSettings, Refund, WebhookEvent
from posbackoffice.admin import ReadOnlyAdmin


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "amount", "currency", "amount_refunded", "method", "mode", "status",
                    "processor", "processor_payment_id"]
    list_filter = ["status", "mode", "method", "processor", "payout_status"]
    search_fields = ["processor_payment_id", "card_last4", "receipt_email"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "payment", "amount", "status", "processor_refund_id"]
    list_filter = ["status"]
    search_fields = ["processor_refund_id"]
    list_select_related = ["account", "payment"]


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "idempotency_key", "kind", "outcome", "tries", "error_code"]
    list_filter = ["kind", "outcome"]
    search_fields = ["idempotency_key"]
    list_select_related = ["account"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "processor", "type", "event_id", "outcome", "tries", "processed_at"]
    list_filter = ["processor", "type", "outcome"]
    search_fields = ["event_id"]


@admin.register(PaymentSettings)
class PaymentSettingsAdmin(ReadOnlyAdmin):
    list_display = ["account", "processor", "cash_discount_enabled", "payout_schedule"]
    list_filter = ["processor", "payout_schedule"]
    list_select_related = ["account"]
