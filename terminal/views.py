"""Setup › Payments › Terminals (register, list, rename, remove, mode), the sell screen's Pay › Card on the
register's reader (live status, Cancel), and the simulated WisePOS E (sandbox only)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.tenancy import get_scoped_or_404, has_permission, scoped, staff_view
from payments.gateway.errors import GatewayError
from payments.messages import failure_message
from payments.models import Payment
from payments.settings_services import payment_settings_of
from posbackoffice.errors import DomainError
from posbackoffice.money import format_money
from posbackoffice.pages import render_page
from retail.sell_device import chosen_register, sale_in_progress
from terminal import driver, live, services
from terminal.forms import PresentCardForm, ReaderInputForm, ReaderModeForm, ReaderRegisterForm, ReaderRenameForm
from terminal.models import Reader, ReaderAction

# ---- Setup › Payments › Terminals -----------------------------------------------------------------


def _readers_page(request, form, status=200):
    readers = scoped(Reader, request.account).filter(removed_at__isnull=True).select_related("outlet", "register")
    return render(request, "terminal/readers.html", {
        "form": form, "readers": readers, "modes": Reader.Mode.choices,
        "standalone_enabled": payment_settings_of(request.account).standalone_enabled,
        "sandbox": settings.PAYMENTS_GATEWAY == "sandbox",
    }, status=status)


@require_http_methods(["GET", "POST"])
@staff_view("manage_payment_settings")
def readers(request):
    if request.method == "GET":
        for reader in scoped(Reader, request.account).filter(removed_at__isnull=True):
            driver.reader_refresh(account=request.account, reader_id=reader.pk)
        return _readers_page(request, ReaderRegisterForm(account=request.account))
    form = ReaderRegisterForm(request.POST, account=request.account)
    if form.is_valid():
        register = form.cleaned_data["register"]
        try:
            reader = services.reader_register(
                actor=request.user, account=request.account, outlet_id=register.outlet_id, register_id=register.pk,
                registration_code=form.cleaned_data["registration_code"], label=form.cleaned_data["label"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Card reader %(label)s registered.") % {"label": reader.label})
            return redirect("terminal:readers")
    return _readers_page(request, form, status=400)


def _reader_change(request, reader_id, change):
    reader = get_scoped_or_404(Reader.objects.filter(removed_at__isnull=True), request.account, pk=reader_id)
    try:
        change(reader)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("terminal:readers")


@require_POST
@staff_view("manage_payment_settings")
def reader_rename(request, reader_id):
    form = ReaderRenameForm(request.POST)

    def change(reader):
        if not form.is_valid():
            raise DomainError(_("Give the reader a name of at most 60 characters."))
        services.reader_rename(actor=request.user, account=request.account, reader_id=reader.pk,
                               label=form.cleaned_data["label"])
        messages.success(request, _("Card reader renamed."))

    return _reader_change(request, reader_id, change)


@require_POST
@staff_view("manage_payment_settings")
def reader_remove(request, reader_id):
    def change(reader):
        services.reader_remove(actor=request.user, account=request.account, reader_id=reader.pk)
        messages.success(request, _("Card reader %(label)s removed.") % {"label": reader.label})

    return _reader_change(request, reader_id, change)


def _set_mode(request, reader):
    form = ReaderModeForm(request.POST)
    if not form.is_valid():
        raise DomainError(_("Choose integrated or standalone mode."))
    services.reader_set_mode(actor=request.user, account=request.account, reader_id=reader.pk,
                             mode=form.cleaned_data["mode"])
    messages.success(request, _("%(label)s is now in %(mode)s.") % {
        "label": reader.label, "mode": Reader.Mode(form.cleaned_data["mode"]).label.lower()})


@require_POST
@staff_view("manage_payment_settings")
def reader_mode(request, reader_id):
    return _reader_change(request, reader_id, lambda reader: _set_mode(request, reader))


# ---- the sell screen: Pay › Card on the register's reader ------------------------------------------

def _register_reader(request):
    register = chosen_register(request)
    if register is None:
        return None
    return scoped(Reader, request.account).filter(register=register, removed_at__isnull=True).first()


@require_GET
@staff_view("sell")
def sell_card(request):
    sale = sale_in_progress(request)
    if sale is None or sale.balance_due <= 0 or not sale.lines.exists():
        messages.info(request, _("Add products to the sale before taking a card payment."))
        return redirect("retail:sell")
    return render(request, "terminal/sell_card.html", {"sale": sale, "currency": sale.currency,
                                                       "reader": _register_reader(request)})


@require_POST
@staff_view("sell")
def sell_card_start(request):
    sale = sale_in_progress(request)
    if sale is None:
        messages.error(request, _("There is no sale in progress on this register."))
        return redirect("retail:sell")
    try:
        action = services.sale_payment_start(actor=request.user, account=request.account, sale_id=sale.pk,
                                             register_id=sale.register_id)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("terminal:sell_card")
    driver.action_send(action_id=action.pk)
    return redirect("terminal:sell_card_status", action_id=action.pk)


@require_POST
@staff_view("sell")
def attach_standalone(request, payment_id):
    """Beyond seed 002: the standalone payment becomes the card payment of the sale in progress."""
    from payments.selectors import shop_payment_or_404
    from payments.services.standalone import payment_attach_to_sale

    payment = shop_payment_or_404(request.account, payment_id)
    sale = sale_in_progress(request)
    if sale is None:
        messages.error(request, _("There is no sale in progress on this register."))
        return redirect("retail:sell")
    try:
        payment_attach_to_sale(actor=request.user, account=request.account, payment_id=payment.pk, sale_id=sale.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The standalone payment of %(amount)s is now this sale's card payment.")
                         % {"amount": format_money(payment.amount, payment.currency)})
    return redirect("retail:sell")


def _sale_action(request, action_id) -> ReaderAction:
    return get_scoped_or_404(ReaderAction.objects.filter(kind=ReaderAction.Kind.PAYMENT, payment__sale__isnull=False)
                             .select_related("payment", "reader"), request.account, pk=action_id)


@require_GET
@staff_view("sell")
def sell_card_status(request, action_id):
    """The live status. Its part asks again: with `?wait=1` a long-poll answered when the driver announces
    a change or after at most 10 s (terminal.live), or, when long-polls are off or full, every 500 ms;
    either way the processor is asked at most every few seconds (the webhook usually settles first)."""
    action = _sale_action(request, action_id)
    live_next = live.can_wait()
    if request.htmx:
        waited = False
        if request.GET.get("wait") and action.status in ReaderAction.OPEN:
            live_next = waited = live.wait_for_action(action.pk, action.status)
        # Read again only after a wait (every long-poll answer: 3 statements fewer than reading it twice).
        action = driver.action_check_if_due(account=request.account, action_id=action.pk,
                                            known=None if waited else action)
    context = {"action": action, "payment": action.payment, "currency": action.payment.currency,
               "failure": failure_message(action.failure_code) if action.failure_code else "", "live": live_next}
    response = render_page(request, "terminal/sell_card_status.html", context, partial="status")
    if request.htmx and action.status not in ReaderAction.OPEN:
        response["HX-Trigger"] = "reader-done"
    return response


@require_POST
@staff_view("sell")
def sell_card_cancel(request, action_id):
    action = _sale_action(request, action_id)
    try:
        action = services.action_cancel(actor=request.user, account=request.account, action_id=action.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if action.payment.status == Payment.Status.SUCCEEDED:
            messages.info(request, _("The card was already presented: the payment went through."))
    return redirect("terminal:sell_card_status", action_id=action.pk)


# ---- Finance › Payments: refunding a standalone payment on the reader ------------------------------

@require_POST
@staff_view("refund_payments")
def standalone_refund(request, payment_id):
    from payments.forms import RefundForm
    from payments.selectors import refundable_now, shop_payment_or_404

    if not has_permission(request, "view_payments"):
        raise PermissionDenied(_("Your staff role does not allow this."))
    payment = shop_payment_or_404(request.account, payment_id)
    form = RefundForm(request.POST, currency=payment.currency, remaining=refundable_now(payment))
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect("payments:detail", payment_id=payment.pk)
    try:
        action = services.standalone_refund_start(actor=request.user, account=request.account, payment_id=payment.pk,
                                                  amount=form.cleaned_data["amount"],
                                                  comment=form.cleaned_data["comment"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.info(request, _("Present the original card on %(reader)s and confirm it there: the refund is sent "
                                 "once confirmed.") % {"reader": action.reader.label})
    return redirect("payments:detail", payment_id=payment.pk)


# ---- the simulated WisePOS E (sandbox) -------------------------------------------------------------

def _simulated_reader(request, reader_id) -> Reader:
    if settings.PAYMENTS_GATEWAY != "sandbox":
        raise Http404("the simulated reader exists only with the sandbox processor")
    return get_scoped_or_404(Reader.objects.filter(removed_at__isnull=True, processor="sandbox"), request.account,
                             pk=reader_id)


def _screen(request, reader, *, status=200, error=""):
    from payments.sandbox import terminal as sandbox_terminal

    state = sandbox_terminal.reader_retrieve(reader_id=reader.processor_reader_id)
    action = state.get("action") or None
    open_action = driver.open_action_of(reader)
    payment = open_action.payment if open_action is not None and open_action.payment_id else None
    last = scoped(ReaderAction, request.account).filter(reader=reader).exclude(
        status__in=ReaderAction.OPEN).order_by("-pk").select_related("payment").first()
    context = {
        "reader": reader, "state": state, "action": action, "open_action": open_action, "payment": payment,
        "last": last, "last_failure": failure_message(last.failure_code) if last and last.failure_code else "",
        "inputs": ((action or {}).get("collect_inputs") or {}).get("inputs") or [],
        "standalone_enabled": payment_settings_of(request.account).standalone_enabled,
        "card_form": PresentCardForm(), "error": error, "modes": Reader.Mode,
    }
    return render_page(request, "terminal/simulator.html", context, partial="screen", status=status)


@require_GET
@staff_view("sell")
def simulator(request, reader_id):
    return _screen(request, _simulated_reader(request, reader_id))


def _device(request, reader_id, work):
    """The person at the simulated reader did something: the device tells the processor (the sandbox's
    device side, as a real reader tells Stripe), then the screen is drawn again. The driver follows by
    the processor's webhook; the screen also asks it to check, so the page works without a worker."""
    from payments.sandbox import terminal as sandbox_terminal

    reader = _simulated_reader(request, reader_id)
    error, status = "", 200
    try:
        sandbox_terminal.reader_heartbeat(reader_id=reader.processor_reader_id)
        work(reader, sandbox_terminal)
    except (DomainError, GatewayError) as refused:
        error = refused.message if isinstance(refused, DomainError) else _("The reader cannot do that now.")
        status = 422
    driver.reader_follow(account=request.account, reader_id=reader.pk)
    return _screen(request, reader, status=status, error=error)


@require_POST
@staff_view("sell")
def simulator_heartbeat(request, reader_id):
    return _device(request, reader_id, lambda reader, device: None)


@require_POST
@staff_view("sell")
def simulator_present_card(request, reader_id):
    form = PresentCardForm(request.POST)

    def present(reader, device):
        if not form.is_valid():
            raise DomainError(_("Choose a test card from the list."))
        device.reader_present_card(reader_id=reader.processor_reader_id, number=form.cleaned_data["card"])

    return _device(request, reader_id, present)


@require_POST
@staff_view("sell")
def simulator_input(request, reader_id):
    form = ReaderInputForm(request.POST)
    skip = request.POST.get("skip") == "1"

    def enter(reader, device):
        if not form.is_valid():
            raise DomainError(_("Type at most 254 characters."))
        value = None if skip else form.cleaned_data["value"].strip()
        if value == "":
            raise DomainError(_("Type a value, or skip."))
        device.reader_enter_inputs(reader_id=reader.processor_reader_id, values=[value])

    return _device(request, reader_id, enter)


@require_POST
@staff_view("sell")
def simulator_mode(request, reader_id):
    """The reader's menu on the left: Standalone mode / Integrated mode."""
    return _device(request, reader_id, lambda reader, device: _set_mode(request, reader))
