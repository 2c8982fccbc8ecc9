"""The sandbox's browser endpoints: the tokenizer (typed card -> payment method id, keeping no card
number or CVC, never logging them), the card form, and the confirm step."""

import logging

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from payments.gateway.base import PaymentStatus
from payments.gateway.sandbox import SandboxGateway
from payments.sandbox import services
from payments.sandbox.models import SandboxPaymentIntent, SandboxPaymentMethod

pytestmark = pytest.mark.django_db

VISA = "4242424242424242"
TOKENIZE = "/sandbox/v1/payment_methods"
NEXT_YEAR = (timezone.now().year + 1) % 100


def tokenize(client, **fields):
    data = {"number": VISA, "expiry": f"12/{NEXT_YEAR:02d}", "cvc": "123"} | fields
    return client.post(TOKENIZE, data)


def sandbox_tables_text() -> str:
    """Every row of every sandbox table, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table.startswith("payments_sandbox_"):
                cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')
                chunks.extend(row[0] for row in cursor.fetchall())
    return "\n".join(chunks)


def test_urls_are_where_the_browser_config_says():
    config = SandboxGateway().browser_config()
    assert config == {
        "driver": "sandbox",
        "form_url": "/sandbox/v1/card_form",
        "tokenize_url": TOKENIZE,
        "confirm_url_template": "/sandbox/v1/payment_intents/{id}/confirm",
        "setup_confirm_url_template": "/sandbox/v1/setup_intents/{id}/confirm",
    }
    assert reverse("payments_sandbox:payment_methods") == TOKENIZE


def test_a_valid_card_becomes_a_payment_method_without_its_number(client):
    response = tokenize(client, number="4242 4242 4242 4242", cvc="987")

    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("pm_sbx_")
    assert body["card"] | {"fingerprint": ""} == {"brand": "visa", "last4": "4242", "exp_month": 12,
                                                  "exp_year": 2000 + NEXT_YEAR, "fingerprint": "",
                                                  "funding": "credit"}
    method = SandboxPaymentMethod.objects.get(pk=body["id"])
    assert (method.brand, method.last4, method.behaviour) == ("visa", "4242", "succeed")
    assert VISA not in sandbox_tables_text()
    assert not {"number", "cvc", "card_number"} & {field.name for field in SandboxPaymentMethod._meta.fields}
    assert body["card"]["fingerprint"] not in VISA
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_same_card_has_the_same_fingerprint(client):
    first = tokenize(client).json()["card"]["fingerprint"]
    again = tokenize(client, expiry="01/40", cvc="555").json()["card"]["fingerprint"]
    other = tokenize(client, number="5555555555554444").json()["card"]
    assert first == again != other["fingerprint"] and other["brand"] == "mastercard"


@pytest.mark.parametrize("fields,param,message", [
    ({"number": ""}, "number", "Enter the card number."),
    ({"number": "4242424242424241"}, "number", "The card number is incorrect."),
    ({"number": "4242abcd42424242"}, "number", "The card number is incorrect."),
    ({"number": "42424242"}, "number", "The card number is incorrect."),
    ({"expiry": "13/30"}, "expiry", "Enter the expiry date as MM/YY."),
    ({"expiry": "1230"}, "expiry", "Enter the expiry date as MM/YY."),
    ({"expiry": "01/20"}, "expiry", "The card has expired."),
    ({"cvc": ""}, "cvc", "Enter the security code (CVC)."),
    ({"cvc": "12"}, "cvc", "The security code (CVC) is incorrect."),
    ({"cvc": "12a"}, "cvc", "The security code (CVC) is incorrect."),
    ({"number": "378282246310005", "cvc": "123"}, "cvc", "The security code (CVC) is incorrect."),
])
def test_bad_card_details_are_refused_with_a_message_and_nothing_is_stored(client, fields, param, message):
    response = tokenize(client, **fields)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["message"]) == (param, message)
    assert not SandboxPaymentMethod.objects.exists()


@pytest.mark.parametrize("postal_code,message", [("", "Enter the postcode."), ("7", "The postcode is incorrect."),
                                                 ("75004 <b>", "The postcode is incorrect.")])
def test_a_postcode_the_card_form_asked_for_must_be_given(client, postal_code, message):
    response = tokenize(client, postal_code=postal_code)

    assert response.status_code == 400
    assert (response.json()["error"]["param"], response.json()["error"]["message"]) == ("postal_code", message)
    assert not SandboxPaymentMethod.objects.exists()


def test_the_postcode_is_kept_with_the_card_like_stripes_billing_details(client):
    method_id = tokenize(client, postal_code=" sw1a 1aa ").json()["id"]

    assert SandboxPaymentMethod.objects.get(pk=method_id).billing_postal_code == "SW1A 1AA"
    details = services.payment_method_retrieve(payment_method_id=method_id)["billing_details"]
    assert details == {"address": {"postal_code": "SW1A 1AA"}}


def test_an_american_express_card_takes_a_four_digit_code(client):
    response = tokenize(client, number="378282246310005", cvc="1234")
    assert response.status_code == 200 and response.json()["card"]["brand"] == "amex"


def test_the_tokenizer_accepts_only_the_card_fields(client):
    response = tokenize(client, name="Camille Martin")
    assert response.status_code == 400 and response.json()["error"]["code"] == "parameter_unknown"

    response = client.post(TOKENIZE, {"number": VISA, "expiry": "12/40", "cvc": "123", "notes": "x" * 2000})
    assert response.status_code == 400

    assert not SandboxPaymentMethod.objects.exists()


def test_a_body_that_is_not_a_form_is_refused(client):
    response = client.generic("POST", TOKENIZE, b"--x\r\nbroken", content_type="multipart/form-data; boundary=x")
    assert response.status_code == 400 and "error" in response.json()
    assert not SandboxPaymentMethod.objects.exists()


def test_the_tokenizer_answers_post_only(client):
    assert client.get(TOKENIZE).status_code == 405


def test_refusals_never_log_the_card_number(client, caplog):
    caplog.set_level(logging.DEBUG)
    tokenize(client, number="4242424242424241")
    tokenize(client, expiry="01/20")
    tokenize(client, cvc="1")
    tokenize(client, notes="4242424242424242")
    assert caplog.records  # Django does log the 400s...
    assert "424242" not in caplog.text  # ...without the request's body


def test_the_tokenizer_does_not_need_a_csrf_token(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(TOKENIZE, {"number": VISA, "expiry": "12/40", "cvc": "123"}).status_code == 200
    assert client  # the default client is lenient anyway


def test_the_card_form_has_fields_without_names(client):
    response = client.get("/sandbox/v1/card_form")

    assert response.status_code == 200
    html = response.content.decode()
    for name in ("number", "expiry", "cvc", "postal_code"):
        assert f'data-sandbox-card="{name}"' in html
    assert "name=" not in html
    assert "Your bank asks you to confirm this payment" in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("language,label,placeholder", [
    ("en", "Expiry (MM/YY)", "MM/YY"), ("fr", "Expiration (MM/AA)", "MM/AA"),
])
def test_the_expiry_field_reads_month_and_year_in_the_visitors_language(client, language, label, placeholder):
    response = client.get("/sandbox/v1/card_form", headers={"Accept-Language": language})

    html = response.content.decode()
    assert label in html and f'placeholder="{placeholder}"' in html


@override_settings(PAYMENTS_GATEWAY="stripe", PLATFORM_PAYMENTS_GATEWAY="stripe")
@pytest.mark.parametrize("method,url", [
    ("get", "/sandbox/v1/card_form"),
    ("post", TOKENIZE),
    ("get", TOKENIZE),
    ("post", "/sandbox/v1/payment_intents/pi_sbx_x/confirm"),
    ("post", "/sandbox/v1/setup_intents/seti_sbx_x/confirm"),
])
def test_the_sandbox_is_not_found_when_stripe_is_the_processor_of_both_payees(client, method, url):
    data = {"number": VISA, "expiry": "12/40", "cvc": "123"} if method == "post" else {}
    response = getattr(client, method)(url, data)
    assert response.status_code == 404
    assert not SandboxPaymentMethod.objects.exists()


# ---- the confirm step -----------------------------------------------------------------------------

def _payment_needing_authentication(client):
    method = tokenize(client, number="4000002500003155").json()["id"]
    return SandboxGateway().create_card_payment(amount=1500, currency="EUR", payment_method_id=method,
                                                idempotency_key="tokenizer-test-payment")


def test_the_cardholder_confirms_a_payment(client):
    payment = _payment_needing_authentication(client)

    response = client.post(f"/sandbox/v1/payment_intents/{payment.id}/confirm",
                           {"client_secret": payment.client_secret, "outcome": "approve"})

    assert response.status_code == 200 and response.json() == {"id": payment.id, "status": "succeeded"}
    assert SandboxGateway().retrieve_payment(payment.id).status == PaymentStatus.SUCCEEDED


def test_the_cardholder_refuses_a_payment(client):
    payment = _payment_needing_authentication(client)

    response = client.post(f"/sandbox/v1/payment_intents/{payment.id}/confirm",
                           {"client_secret": payment.client_secret, "outcome": "refuse"})

    body = response.json()
    assert response.status_code == 200 and body["status"] == "requires_payment_method"
    assert body["error"]["message"] == "The payment was not confirmed with the bank."
    failed = SandboxGateway().retrieve_payment(payment.id)
    assert (failed.status, failed.failure_code) == ("requires_payment_method", "payment_intent_authentication_failure")


@pytest.mark.parametrize("data", [
    {"client_secret": "pi_sbx_wrong_secret_x", "outcome": "approve"},
    {"outcome": "approve"},
    {"client_secret": "__own__", "outcome": "maybe"},
    {"client_secret": "__own__"},
])
def test_a_confirmation_without_the_right_secret_or_answer_changes_nothing(client, data):
    payment = _payment_needing_authentication(client)
    if data.get("client_secret") == "__own__":
        data = data | {"client_secret": payment.client_secret}

    response = client.post(f"/sandbox/v1/payment_intents/{payment.id}/confirm", data)

    assert response.status_code == 400 and response.json()["error"]["message"]
    assert SandboxPaymentIntent.objects.get(pk=payment.id).status == "requires_action"


def test_confirming_an_unknown_payment_is_not_found(client):
    response = client.post("/sandbox/v1/payment_intents/pi_sbx_nothing/confirm",
                           {"client_secret": "pi_sbx_nothing_secret_x", "outcome": "approve"})
    assert response.status_code == 404 and "error" in response.json()


def test_confirming_a_payment_twice_is_refused_the_second_time(client):
    payment = _payment_needing_authentication(client)
    url = f"/sandbox/v1/payment_intents/{payment.id}/confirm"
    client.post(url, {"client_secret": payment.client_secret, "outcome": "approve"})

    response = client.post(url, {"client_secret": payment.client_secret, "outcome": "refuse"})

    assert response.status_code == 400
    assert SandboxGateway().retrieve_payment(payment.id).status == PaymentStatus.SUCCEEDED


def test_saving_a_declining_card_answers_the_reason(client):
    gateway = SandboxGateway()
    customer = gateway.create_customer(email="a@example.test", name="A", idempotency_key="tokenizer-customer")
    setup = gateway.start_card_setup(customer_id=customer.id, idempotency_key="tokenizer-setup")
    method = tokenize(client, number="4000000000009995").json()["id"]

    response = client.post(f"/sandbox/v1/setup_intents/{setup.id}/confirm",
                           {"client_secret": setup.client_secret, "payment_method": method})

    body = response.json()
    assert response.status_code == 200 and body["status"] == "requires_payment_method"
    assert body["error"]["code"] == "insufficient_funds" and body["error"]["message"]
    assert gateway.list_cards(customer.id) == []
    assert services.setup_intent_retrieve(setup_id=setup.id)["last_setup_error"]["decline_code"] == "insufficient_funds"
