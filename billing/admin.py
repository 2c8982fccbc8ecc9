"""The platform's catalogue in the Django admin: plans with their prices, add-on prices, hold fees. The
merchants' own rows (plans, balance, invoices, holds) are read-only here: they change through services."""

from django.contrib import admin

from billing.models import AddonPrice, HoldFee, Invoice, LedgerEntry, MerchantPlan, Plan, PlanPrice
from posbackoffice.admin import ReadOnlyAdmin


class PlanPriceInline(admin.TabularInline):
    model = PlanPrice
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "legacy", "rank")
    list_filter = ("legacy",)
    inlines = [PlanPriceInline]


@admin.register(AddonPrice)
class AddonPriceAdmin(admin.ModelAdmin):
    list_display = ("addon", "frequency", "currency", "amount")


@admin.register(HoldFee)
class HoldFeeAdmin(admin.ModelAdmin):
    list_display = ("country", "currency", "amount")


@admin.register(MerchantPlan)
class MerchantPlanAdmin(ReadOnlyAdmin):
    list_display = ("account", "plan", "frequency", "period_start", "period_end", "card_last4")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("account", "kind", "amount", "currency", "created_at")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("number", "account", "kind", "status", "total", "currency", "created_at")
