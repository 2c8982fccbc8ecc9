"""The sandbox processor's browser endpoints, the stand-in for Stripe's API as Stripe.js calls it:

- GET  /sandbox/v1/card_form: the card fields and the bank's confirm step, in the visitor's language;
- POST /sandbox/v1/payment_methods (number, expiry "MM/YY", cvc, and postal_code when the page asks for
  it): the tokenizer, answers a pm id;
- POST /sandbox/v1/payment_intents/<id>/confirm (client_secret, outcome=approve|refuse);
- POST /sandbox/v1/setup_intents/<id>/confirm (client_secret, then payment_method; or outcome).

Like Stripe's API they are CSRF-exempt: the client secret (or, for the tokenizer, nothing worth
forging) is the proof. They answer JSON, errors included, and never raise with a card in the request:
Django's error reports would otherwise carry the POST body. They answer 404 unless the sandbox is the
configured processor.
"""

import logging
from functools import wraps

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from accounts.tenancy import public_view
from payments.gateway.errors import GatewayError, NotFound
from payments.messages import failure_message
from payments.sandbox import services
from payments.sandbox.cards import CardRefused

logger = logging.getLogger(__name__)

TOKENIZER_FIELDS = frozenset({"number", "expiry", "cvc", "postal_code"})
MAX_BODY_BYTES = 1024  # four short fields; anything bigger is not a card form


def sandbox_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if "sandbox" not in (settings.PAYMENTS_GATEWAY, settings.PLATFORM_PAYMENTS_GATEWAY):
            raise Http404("the sandbox processor is off")
        return view(request, *args, **kwargs)

    return wrapper


def _error(message, *, code: str, status: int = 400, param: str = "") -> JsonResponse:
    error = {"type": "card_error" if param else "invalid_request_error", "code": code, "message": str(message)}
    if param:
        error["param"] = param
    return JsonResponse({"error": error}, status=status)


def _body_too_big(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES
    except ValueError:
        return True


def _gateway_error(error: GatewayError) -> JsonResponse:
    if isinstance(error, NotFound):
        return _error(_("This payment is not known to the card processor."), code=error.code, status=404)
    return _error(_("The card processor refused the request."), code=error.code)


@public_view
@sandbox_only
@require_GET
def card_form(request):
    return render(request, "payments_sandbox/card_form.html")


@public_view
@csrf_exempt
@sandbox_only
@require_POST
@never_cache
@sensitive_post_parameters("number", "expiry", "cvc")
def payment_methods(request):
    """Typed card -> payment method id. Reads only the card fields; keeps neither number nor CVC."""
    try:
        if _body_too_big(request):
            return _error(_("The card processor refused the request."), code="request_too_large")
        if set(request.POST) - TOKENIZER_FIELDS or request.FILES:
            return _error(_("The card processor refused the request."), code="parameter_unknown")
        method = services.payment_method_create(number=request.POST.get("number", ""),
                                                expiry=request.POST.get("expiry", ""),
                                                cvc=request.POST.get("cvc", ""),
                                                postal_code=request.POST.get("postal_code"))
    except CardRefused as refused:
        return _error(refused.message, code=refused.code, param=refused.param)
    except (MultiPartParserError, SuspiciousOperation, UnicodeDecodeError):  # a body that is not a form
        return _error(_("The card processor refused the request."), code="parameter_invalid")
    except Exception as error:  # never let Django report a request that holds a card number
        logger.error("sandbox tokenizer failed: %s", type(error).__name__)
        return _error(_("The card processor refused the request."), code="api_error", status=500)
    return JsonResponse({"id": method["id"], "object": "payment_method", "card": method["card"]})


def _outcome(request) -> bool | None:
    return {"approve": True, "refuse": False}.get(request.POST.get("outcome", ""))


@public_view
@csrf_exempt
@sandbox_only
@require_POST
@never_cache
def payment_intent_confirm(request, intent_id):
    """The cardholder's answer to the bank's question about a payment in the browser."""
    approve = _outcome(request)
    if approve is None:
        return _error(_("The card processor refused the request."), code="parameter_missing")
    try:
        intent = services.payment_intent_authenticate(
            payment_intent_id=intent_id, client_secret=request.POST.get("client_secret", ""), approve=approve)
    except GatewayError as error:
        return _gateway_error(error)
    answer = {"id": intent["id"], "status": intent["status"]}
    if not approve:
        answer["error"] = {"code": services.PAYMENT_AUTHENTICATION_FAILURE,
                           "message": _("The payment was not confirmed with the bank.")}
    return JsonResponse(answer)


@public_view
@csrf_exempt
@sandbox_only
@require_POST
@never_cache
def setup_intent_confirm(request, intent_id):
    """Saving a card: first with the new payment method, then (if the bank asks) the cardholder's answer."""
    client_secret = request.POST.get("client_secret", "")
    try:
        if "outcome" in request.POST:
            approve = _outcome(request)
            if approve is None:
                return _error(_("The card processor refused the request."), code="parameter_invalid")
            setup = services.setup_intent_authenticate(setup_id=intent_id, client_secret=client_secret,
                                                       approve=approve)
        else:
            setup = services.setup_intent_confirm(setup_id=intent_id, client_secret=client_secret,
                                                  payment_method_id=request.POST.get("payment_method", ""))
    except GatewayError as error:
        return _gateway_error(error)
    answer = {"id": setup["id"], "status": setup["status"], "payment_method": setup["payment_method"]}
    failure = setup["last_setup_error"]
    if failure:
        code = failure["decline_code"] or failure["code"]
        message = (_("The card was not confirmed with the bank.")
                   if code == services.SETUP_AUTHENTICATION_FAILURE else failure_message(code))
        answer["error"] = {"code": code, "message": message}
    return JsonResponse(answer)

