"""The processors' webhook endpoints, one per processor account (payments.webhooks): CSRF-exempt (the
signature is the proof), POST only."""

from django.http import HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.tenancy import public_view
from payments.gateway import MERCHANT, PLATFORM
from payments.webhooks import SANDBOX_SENDER, BadSignature, webhook_receive


def _endpoint(processor: str, payee: str):
    @csrf_exempt
    @require_POST
    def receive(request):
        try:
            webhook_receive(processor=processor, payee=payee, payload=request.body,
                            signature=request.headers.get("Stripe-Signature", ""))
        except BadSignature:
            return HttpResponseBadRequest("bad signature", content_type="text/plain")
        return HttpResponse("ok", content_type="text/plain")

    receive.__name__ = "_".join(filter(None, [payee, processor, "webhook"]))
    return public_view(receive)


app_name = "webhooks"
urlpatterns = [
    path("webhooks/stripe/", _endpoint("stripe", MERCHANT), name="stripe"),
    path("webhooks/platform/stripe/", _endpoint("stripe", PLATFORM), name="platform_stripe"),
    path("webhooks/sandbox/", _endpoint("sandbox", SANDBOX_SENDER), name="sandbox"),
]
