"""The processors' webhook endpoints: CSRF-exempt (the signature is the proof), POST only."""

from django.http import HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.tenancy import public_view
from payments.webhooks import BadSignature, webhook_receive


def _endpoint(processor: str):
    @csrf_exempt
    @require_POST
    def receive(request):
        try:
            webhook_receive(processor=processor, payload=request.body,
                            signature=request.headers.get("Stripe-Signature", ""))
        except BadSignature:
            return HttpResponseBadRequest("bad signature", content_type="text/plain")
        return HttpResponse("ok", content_type="text/plain")

    receive.__name__ = f"{processor}_webhook"
    return public_view(receive)


app_name = "webhooks"
urlpatterns = [
    path("webhooks/stripe/", _endpoint("stripe"), name="stripe"),
    path("webhooks/sandbox/", _endpoint("sandbox"), name="sandbox"),
]
