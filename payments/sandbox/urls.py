"""Mounted under /sandbox/ (posbackoffice/urls.py); see views.py."""

from django.urls import path

from payments.sandbox.views import card_form, payment_intent_confirm, payment_methods, setup_intent_confirm

app_name = "payments_sandbox"
urlpatterns = [
    path("v1/card_form", card_form, name="card_form"),
    path("v1/payment_methods", payment_methods, name="payment_methods"),
    path("v1/payment_intents/<slug:intent_id>/confirm", payment_intent_confirm, name="payment_intent_confirm"),
    path("v1/setup_intents/<slug:intent_id>/confirm", setup_intent_confirm, name="setup_intent_confirm"),
]
