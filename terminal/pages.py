"""What the terminal app shows on pages of apps below it (registered in TerminalConfig.ready)."""

from django.urls import reverse

from accounts.tenancy import scoped
from terminal.models import Reader


def settings_section(request):
    """Setup › Payments › Terminals: the readers, with the way to their page."""
    if "manage_payment_settings" not in getattr(request, "permissions", ()):
        return None
    readers = scoped(Reader, request.account).filter(removed_at__isnull=True).select_related("outlet", "register")
    return {"readers": list(readers)}


def register_has_reader(request, sale) -> bool:
    """Pay › Credit/Debit › Card reader shows on a register with a reader."""
    register_id = getattr(sale, "register_id", None)
    return bool(register_id) and scoped(Reader, request.account).filter(
        register_id=register_id, removed_at__isnull=True).exists()


def standalone_refund_url(payment) -> str | None:
    """Finance › Payments › a standalone card payment › Refund goes to the reader (the card check)."""
    if payment.mode == "standalone" and payment.method == "card_present":
        return reverse("terminal:standalone_refund", args=[payment.pk])
    return None
