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


def standalone_payment_notices(request, sale):
    """Beyond seed 002, on the sell screen: today's standalone payments of this outlet that are in no sale
    yet can become the card payment of the sale in progress (add the items, then attach)."""
    import datetime

    from django.utils import timezone
    from django.utils.translation import gettext as _

    from payments.models import Payment
    from posbackoffice.money import format_money
    from retail.sell_actions import CartNotice, CartNoticeAction

    if sale is None or sale.pk is None or "sell" not in getattr(request, "permissions", ()):
        return []
    since = timezone.now() - datetime.timedelta(days=1)
    payments = scoped(Payment, request.account).filter(
        mode=Payment.Mode.STANDALONE, purpose=Payment.Purpose.NONE, status=Payment.Status.SUCCEEDED,
        outlet_id=sale.outlet_id, created_at__gte=since).order_by("-created_at")[:5]
    return [CartNotice(
        _("Standalone payment of %(amount)s (%(card)s, %(time)s) can become this sale's card payment: add the "
          "items, then attach it.") % {"amount": format_money(payment.amount, payment.currency),
                                       "card": payment.card_label or "—",
                                       "time": timezone.localtime(payment.created_at).strftime("%H:%M")},
        [CartNoticeAction(_("Attach to this sale"), reverse("terminal:attach_standalone", args=[payment.pk]))])
        for payment in payments]
