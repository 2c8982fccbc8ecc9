"""Sell screen › Other payments › Saved payments: charge one of the attached customer's saved cards
(not expired; the default one chosen first). A decline shows the reason and leaves the sale open; a
success pays the sale, which the cashier then completes on the sell screen ("Complete sale")."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.tenancy import get_scoped_or_404, has_permission, staff_view
from payments.card_saving import SaveCardOffer
from payments.messages import failure_message
from payments.models import Payment
from posbackoffice.errors import DomainError
from posbackoffice.money import format_input, format_money, parse_money
from posbackoffice.pages import refusals
from posbackoffice.params import parse_id
from retail.sell_device import sale_in_progress
from saved_cards import selectors, services
from saved_cards.models import MAX_CARDS_PER_CUSTOMER, SavedCard


def offered(request, sale) -> bool:
    """The "Saved payments" entry of Other payments (retail.sell_actions): a customer on the sale and
    the feature on (the permission is the entry's own)."""
    return sale is not None and sale.customer_id is not None and selectors.feature_enabled(request.account)


def _sale_or_back(request):
    sale = sale_in_progress(request)
    if sale is None or sale.balance_due <= 0 or not sale.lines.exists():
        messages.info(request, _("Add products to the sale before taking a card payment."))
        return None, redirect("retail:sell")
    if not selectors.feature_enabled(request.account):
        messages.error(request, services.FeatureOff().message)
        return None, redirect("retail:sell")
    if sale.customer_id is None:
        messages.error(request, _("Attach the customer to the sale first."))
        return None, redirect("retail:sell")
    return sale, None


def _page(request, sale, *, chosen=None, amount=None, error="", status=200):
    cards = selectors.usable_cards(request.account, sale.customer, selectors.shop_today(request.account))
    return render(request, "saved_cards/sell.html", {
        "sale": sale, "currency": sale.currency, "cards": cards,
        "chosen": chosen if chosen is not None else (cards[0].pk if cards else None),
        "amount": amount if amount is not None else format_input(sale.balance_due, sale.currency),
        "can_add": has_permission(request, "add_saved_payment_method"), "error": error,
    }, status=status)


@require_GET
@staff_view("use_saved_payment_method")
def saved_payments(request):
    sale, back = _sale_or_back(request)
    if back is not None:
        return back
    return _page(request, sale)


def _charge_refused(request, message):
    """A refused or declined charge (posbackoffice.pages.refusals): the Saved payments page again with the
    reason, keeping the card and the amount the cashier sent."""
    return _page(request, sale_in_progress(request), chosen=parse_id(request.POST.get("card")),
                 amount=request.POST.get("amount", ""), error=message)


@require_POST
@staff_view("use_saved_payment_method")
@refusals(_charge_refused)
def charge(request):
    sale, back = _sale_or_back(request)
    if back is not None:
        return back
    card_id = parse_id(request.POST.get("card"))
    if card_id is None:
        raise DomainError(_("Choose one of the customer's saved cards."))
    card = get_scoped_or_404(SavedCard, request.account, pk=card_id)  # another shop's card: not found
    payment = services.saved_card_charge(actor=request.user, account=request.account, sale_id=sale.pk,
                                         card_id=card.pk, amount=parse_money(request.POST.get("amount", ""),
                                                                             sale.currency))
    if payment.status == Payment.Status.FAILED:  # declined: shown as any refusal, the sale left open
        raise DomainError(failure_message(payment.failure_code))
    if payment.status == Payment.Status.SUCCEEDED:  # the sell screen then offers "Complete sale"
        messages.success(request, _("%(card)s charged %(amount)s.") % {
            "card": card, "amount": format_money(payment.amount, payment.currency)})
    return redirect("retail:sell")  # pending: the sell screen's notice follows it


class SaleCardSaver:
    """Manual entry's "Save payment details for future purchases" (payments.card_saving): offered when
    the feature is on and the cashier may add cards; the sale needs a customer with room for a card."""

    def offer(self, request, sale) -> SaveCardOffer | None:
        if not selectors.feature_enabled(request.account) or not has_permission(request, "add_saved_payment_method"):
            return None
        label = _("Save payment details for future purchases")
        if sale.customer_id is None:
            return SaveCardOffer(label, refused=_("To save the card, attach the customer to the sale first (create "
                                                  "their profile if they have none)."))
        if selectors.card_count(request.account, sale.customer) >= MAX_CARDS_PER_CUSTOMER:
            return SaveCardOffer(label, refused=services.limit_message())
        return SaveCardOffer(label, help=_("Ticking this box confirms the customer authorised saving their card."))

    def prepare(self, *, actor, account, sale) -> str:
        return services.card_customer_ensure(account=account, customer_id=sale.customer_id)

    def record(self, *, payment, card) -> None:
        services.saved_card_record_from_payment(payment=payment, card=card)


SALE_CARD_SAVER = SaleCardSaver()
