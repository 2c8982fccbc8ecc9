"""The sell screen: pick a register, open it, build the cart, take payment, complete; park and
resume; close the register. One page; each action answers with the cart partial for htmx. Showing the
screen writes nothing: the sale in progress is started by the first action that needs it."""

from functools import wraps

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Register
from accounts.tenancy import get_scoped_or_404, has_permission, scoped, staff_view
from posbackoffice.errors import DomainError
from posbackoffice.pages import refusals
from posbackoffice.params import clean_text, id_or_404, parse_id
from retail import sale_extensions, sell_actions
from retail.forms.sales import (
    AddProductForm,
    CloseRegisterForm,
    LineForm,
    OpenRegisterForm,
    PaymentForm,
    QuickCustomerForm,
)
from retail.models import Customer, PaymentType, Product, RegisterSession, Sale, SaleLine, SalePayment
from retail.pricing import percent_discount
from retail.selectors import sell as selectors
from retail.sell_device import (
    SESSION_LAST_SALE,
    chosen_register,
    chosen_register_id,
    forget_register,
    remember_register,
)
from retail.services import registers as register_services
from retail.services import sales as sale_services


def _register_and_sale(request) -> tuple[Register | None, Sale | None]:
    """This browser's register and its sale in progress, read only (a GET changes nothing): one query
    when the cart is there; when the open register has none, an empty cart not saved yet (no pk), which
    the first action that needs it starts (sale_start); no sale when the register is closed, no register
    when none is chosen."""
    register_id = chosen_register_id(request)
    sale = selectors.sale_in_progress(request.account, register_id) if register_id else None
    if sale is not None:
        return sale.register, sale
    register = chosen_register(request)
    if register is None or selectors.open_session(request.account, register) is None:
        return register, None
    return register, selectors.empty_cart(request.account, register)


def _screen_context(request, register, sale, *, last_sale=None):
    context = selectors.cart(request.account, sale)
    last_sale_id = request.session.get(SESSION_LAST_SALE)
    if last_sale is None and last_sale_id and not context["lines"]:  # shown over an empty cart only
        last_sale = scoped(Sale, request.account).filter(pk=last_sale_id).first()
    context.update(
        register=register,
        currency=request.account.currency,
        last_sale=last_sale,
        # Counted when the template shows it: in the page's header, not in the cart partial.
        parked_count=selectors.parked_sales(request.account, register.outlet_id).count,
        can_put_on_account=True,
        other_payments=sell_actions.grouped(request, sale),
        cart_notices=sell_actions.notices(request, sale),
        completion_options=sale_extensions.completion_options(request, sale) if context["lines"] else [],
        can_create_customer=has_permission(request, "manage_customers"),
    )
    return context


def _cart_response(request, register, sale, *, error=None, status=200, last_sale=None):
    if error:
        messages.error(request, error)
    context = _screen_context(request, register, sale, last_sale=last_sale)
    if request.htmx:
        return render(request, "retail/sell/screen.html#cart", context, status=status)
    return redirect("retail:sell")


def _cart_refused(request, message, register, sale, **_url_kwargs):
    """A refused cart action (posbackoffice.pages.refusals): the cart partial with the reason, as it was."""
    return _cart_response(request, register, sale, error=message)


def _with_sale(view=None, *, starts=False):
    """Resolve the register and its sale in progress for an action; refuse when the register is not
    ready. The sale may be the open register's empty cart, not saved yet: an action that `starts` the sale
    hands the register to its service, which starts it in the action's transaction; any other action has
    nothing to act on yet. A refused action (DomainError) answers the cart with the reason, 422."""
    def decorate(view):
        action = refusals(_cart_refused)(view)

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            # Another shop's line or payment is not found, whatever state this register is in.
            for key, model in (("line_id", SaleLine), ("payment_id", SalePayment)):
                if key in kwargs and not model.objects.filter(pk=kwargs[key], sale__account=request.account).exists():
                    raise Http404
            register, sale = _register_and_sale(request)
            if sale is None:
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = reverse("retail:sell")
                    return response
                return redirect("retail:sell")
            if sale.pk is None and not starts:
                if "line_id" in kwargs or "payment_id" in kwargs:
                    raise Http404  # not part of this (empty) cart
                return _cart_response(request, register, sale, error=_("The cart is empty."), status=422)
            return action(request, register, sale, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def _cart_of(register, sale) -> dict:
    """What a service that may start the sale is given: the sale, or the register whose cart is empty."""
    return {"sale_id": sale.pk} if sale.pk is not None else {"register_id": register.pk}


@require_GET
@staff_view("sell")
def sell(request):
    register, sale = _register_and_sale(request)
    if register is None:
        return render(request, "retail/sell/pick_register.html",
                      {"registers": selectors.registers_with_state(request.account)})
    if sale is None:
        return render(request, "retail/sell/open_register.html", {
            "register": register, "form": OpenRegisterForm(currency=request.account.currency),
        })
    return render(request, "retail/sell/screen.html", _screen_context(request, register, sale))


@require_POST
@staff_view("sell")
def choose_register(request):
    register_id = parse_id(request.POST.get("register"))
    if register_id is None:
        messages.error(request, _("Choose a register."))
        return redirect("retail:sell")
    register = get_scoped_or_404(Register, request.account, pk=register_id, is_active=True)
    response = redirect("retail:sell")
    remember_register(request, response, register)
    return response


@require_POST
@staff_view("sell")
def switch_register(request):
    response = redirect("retail:sell")
    forget_register(response)
    return response


@require_POST
@staff_view("sell")
def open_register(request):
    register = chosen_register(request)
    if register is None:
        return redirect("retail:sell")
    form = OpenRegisterForm(request.POST, currency=request.account.currency)
    if form.is_valid():
        try:
            register_services.register_open(actor=request.user, account=request.account, register_id=register.pk,
                                            opening_float=form.cleaned_data["opening_float"] or 0)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("%(register)s is open.") % {"register": register})
            return redirect("retail:sell")
    return render(request, "retail/sell/open_register.html", {"register": register, "form": form}, status=422)


@require_GET
@staff_view("sell")
def product_search(request):
    register = chosen_register(request)
    if register is None:
        return HttpResponse(status=204)
    query = clean_text(request.GET.get("q"))
    results = selectors.product_search(request.account, register.outlet_id, query)
    return render(request, "retail/sell/screen.html#search_results",
                  {"results": results, "query": query, "currency": request.account.currency})


@require_POST
@staff_view("sell")
@_with_sale(starts=True)
def add_product(request, register, sale):
    form = AddProductForm(request.POST)
    if not form.is_valid():
        return _cart_response(request, register, sale, error=form.errors["quantity"][0], status=422)
    # A tampered hidden field: not found, like another shop's product.
    product = get_scoped_or_404(Product, request.account, pk=id_or_404(request.POST.get("product")))
    line = sale_services.sale_add_product(actor=request.user, account=request.account, product_id=product.pk,
                                          quantity=form.cleaned_data["quantity"] or 1, **_cart_of(register, sale))
    return _cart_response(request, register, line.sale)


@require_POST
@staff_view("sell")
@_with_sale(starts=True)
def scan(request, register, sale):
    """A scanner (or Enter in the search box) sends a code: add the product with that SKU or barcode."""
    from retail.services.catalogue import find_by_code

    code = clean_text(request.POST.get("q"))
    product = find_by_code(request.account, code)
    if product is None:
        return _cart_response(request, register, sale, status=422,
                              error=_("No product has the SKU or barcode “%(code)s”.") % {"code": code})
    line = sale_services.sale_add_product(actor=request.user, account=request.account,
                                          product_id=product.pk, **_cart_of(register, sale))
    return _cart_response(request, register, line.sale)


@require_POST
@staff_view("sell")
@_with_sale
def update_line(request, register, sale, line_id):
    line = get_scoped_or_404(sale.lines.all(), request.account, pk=line_id)
    form = LineForm(request.POST, currency=request.account.currency)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return _cart_response(request, register, sale, error=first, status=422)
    discount = form.cleaned_data["discount"]
    percent = form.cleaned_data["discount_percent"]
    if percent is not None and discount is None:
        discount = percent_discount(form.cleaned_data["quantity"] * line.unit_price, int(percent * 100))
    sale_services.sale_update_line(actor=request.user, account=request.account, sale_id=sale.pk,
                                   line_id=line.pk, quantity=form.cleaned_data["quantity"],
                                   discount=discount if discount is not None else line.discount)
    sale.refresh_from_db()
    return _cart_response(request, register, sale)


@require_POST
@staff_view("sell")
@_with_sale
def remove_line(request, register, sale, line_id):
    line = get_scoped_or_404(sale.lines.all(), request.account, pk=line_id)
    sale_services.sale_remove_line(actor=request.user, account=request.account, sale_id=sale.pk, line_id=line.pk)
    sale.refresh_from_db()
    return _cart_response(request, register, sale)


@require_GET
@staff_view("sell")
def customer_search(request):
    query = clean_text(request.GET.get("q"))
    return render(request, "retail/sell/screen.html#customer_results",
                  {"customers": selectors.customer_search(request.account, query), "query": query,
                   "currency": request.account.currency})


@require_POST
@staff_view("sell")
@_with_sale(starts=True)
def set_customer(request, register, sale):
    customer_id = None
    if request.POST.get("customer"):  # a tampered hidden field: not found, like another shop's customer
        customer_id = get_scoped_or_404(Customer, request.account, pk=id_or_404(request.POST["customer"])).pk
    elif sale.pk is None:
        return _cart_response(request, register, sale)  # no customer to take off an empty cart
    sale = sale_services.sale_set_customer(actor=request.user, account=request.account, customer_id=customer_id,
                                           **_cart_of(register, sale))
    return _cart_response(request, register, sale)


@require_POST
@staff_view("manage_customers")
@_with_sale(starts=True)
def quick_customer(request, register, sale):
    form = QuickCustomerForm(request.POST)
    if not form.is_valid():
        return _cart_response(request, register, sale, error=_("Check the customer’s details."), status=422)
    sale = sale_services.sale_set_new_customer(actor=request.user, account=request.account,
                                               **_cart_of(register, sale), **form.cleaned_data)
    return _cart_response(request, register, sale)


@require_POST
@staff_view("sell")
@_with_sale
def add_payment(request, register, sale):
    form = PaymentForm(request.POST, currency=request.account.currency)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return _cart_response(request, register, sale, error=first, status=422)
    get_scoped_or_404(PaymentType, request.account, pk=form.cleaned_data["payment_type"])
    payment = sale_services.sale_add_payment(actor=request.user, account=request.account, sale_id=sale.pk,
                                             payment_type_id=form.cleaned_data["payment_type"],
                                             amount=form.cleaned_data["amount"])
    return _cart_response(request, register, payment.sale)


@require_POST
@staff_view("sell")
@_with_sale
def remove_payment(request, register, sale, payment_id):
    payment = get_scoped_or_404(sale.payments.all(), request.account, pk=payment_id)
    sale_services.sale_remove_payment(actor=request.user, account=request.account, sale_id=sale.pk,
                                      payment_id=payment.pk)
    sale.refresh_from_db()
    return _cart_response(request, register, sale)


@require_POST
@staff_view("sell")
@_with_sale
def complete(request, register, sale):
    on_account = request.POST.get("on_account") == "1"
    completed = sale_services.sale_complete(actor=request.user, account=request.account, sale_id=sale.pk,
                                            on_account=on_account,
                                            receipt_email=request.POST.get("receipt_email", ""),
                                            options=sale_extensions.completion_values(request.POST) if on_account
                                            else None)
    request.session[SESSION_LAST_SALE] = completed.pk
    return _cart_response(request, register, selectors.empty_cart(request.account, register), last_sale=completed)


@require_POST
@staff_view("sell")
@_with_sale
def park(request, register, sale):
    sale_services.sale_park(actor=request.user, account=request.account, sale_id=sale.pk,
                            note=clean_text(request.POST.get("note"), 500))
    messages.success(request, _("Sale parked."))
    return _cart_response(request, register, selectors.empty_cart(request.account, register))


@require_POST
@staff_view("sell")
@_with_sale
def discard(request, register, sale):
    sale_services.sale_discard(actor=request.user, account=request.account, sale_id=sale.pk)
    return _cart_response(request, register, selectors.empty_cart(request.account, register))


@require_GET
@staff_view("sell")
def parked(request):
    register = chosen_register(request)
    if register is None:
        return redirect("retail:sell")
    return render(request, "retail/sell/parked.html", {
        "register": register, "sales": selectors.parked_sales(request.account, register.outlet_id)[:100],
        "currency": request.account.currency,
    })


@require_POST
@staff_view("sell")
def resume(request, sale_id):
    sale = get_scoped_or_404(Sale, request.account, pk=sale_id)
    register = chosen_register(request)
    if register is None:
        return redirect("retail:sell")
    try:
        sale_services.sale_resume(actor=request.user, account=request.account, sale_id=sale.pk,
                                  register_id=register.pk)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("retail:sell_parked")
    return redirect("retail:sell")


@require_http_methods(["GET", "POST"])
@staff_view("sell")
def close_register(request):
    register = chosen_register(request)
    session = selectors.open_session(request.account, register) if register else None
    if session is None:
        return redirect("retail:sell")
    expected = register_services.expected_amounts(session)
    payment_types = [pt for pt in scoped(PaymentType, request.account)
                     if pt.is_cash or pt.pk in expected or (pt.kind == PaymentType.Kind.CUSTOM and pt.is_active)]
    form = CloseRegisterForm(request.POST or None, currency=request.account.currency, payment_types=payment_types,
                             expected=expected)
    if request.method == "POST" and form.is_valid():
        try:
            register_services.register_close(actor=request.user, account=request.account, session_id=session.pk,
                                             counted=form.counted(), note=form.cleaned_data["note"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return redirect("retail:sell_closure", session_id=session.pk)
    return render(request, "retail/sell/close_register.html",
                  {"register": register, "session": session, "form": form, "currency": request.account.currency},
                  status=422 if request.method == "POST" else 200)


@require_GET
@staff_view("sell")
def closure(request, session_id):
    session = get_scoped_or_404(RegisterSession.objects.select_related("register__outlet", "opened_by", "closed_by"),
                                request.account, pk=session_id, status=RegisterSession.Status.CLOSED)
    lines = list(session.closure_lines.select_related("payment_type"))
    return render(request, "retail/sell/closure.html", {
        "session": session, "lines": lines, "currency": request.account.currency,
        "totals": {key: sum(getattr(line, key) for line in lines) for key in ("expected", "counted", "difference")},
    })


urlpatterns = [
    path("sell/", sell, name="sell"),
    path("sell/register/", choose_register, name="sell_choose_register"),
    path("sell/register/switch/", switch_register, name="sell_switch_register"),
    path("sell/open/", open_register, name="sell_open"),
    path("sell/close/", close_register, name="sell_close"),
    path("sell/closures/<int:session_id>/", closure, name="sell_closure"),
    path("sell/search/", product_search, name="sell_search"),
    path("sell/scan/", scan, name="sell_scan"),
    path("sell/lines/add/", add_product, name="sell_add"),
    path("sell/lines/<int:line_id>/", update_line, name="sell_line"),
    path("sell/lines/<int:line_id>/remove/", remove_line, name="sell_line_remove"),
    path("sell/customers/", customer_search, name="sell_customer_search"),
    path("sell/customer/", set_customer, name="sell_set_customer"),
    path("sell/customer/new/", quick_customer, name="sell_quick_customer"),
    path("sell/payments/", add_payment, name="sell_pay"),
    path("sell/payments/<int:payment_id>/remove/", remove_payment, name="sell_payment_remove"),
    path("sell/complete/", complete, name="sell_complete"),
    path("sell/park/", park, name="sell_park"),
    path("sell/discard/", discard, name="sell_discard"),
    path("sell/parked/", parked, name="sell_parked"),
    path("sell/parked/<int:sale_id>/resume/", resume, name="sell_resume"),
]
