"""Template helpers available in every template (registered as builtins in settings)."""

from django import template

from posbackoffice.money import format_money

register = template.Library()


@register.filter
def money(amount, currency):
    """{{ sale.total|money:sale.currency }} → "12,50 €" in French, "€12.50" in English."""
    if amount is None or amount == "":
        return ""
    return format_money(int(amount), currency)


@register.filter
def can(request, code):
    """{% if request|can:"refund_payments" %} — display only; views check on the server."""
    return code in getattr(request, "permissions", frozenset())
