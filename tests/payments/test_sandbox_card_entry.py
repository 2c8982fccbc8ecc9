"""The sandbox card-entry driver in a real browser, under the strict CSP: PosCardEntry.mount on a
container carrying the gateway's browser_config, then createPaymentMethod, handleNextAction and
confirmSetup as a page (the sell screen, a card-update page) calls them."""

import html
import json

import pytest
from playwright.sync_api import expect

from payments.gateway.sandbox import SandboxGateway
from payments.sandbox import services
from payments.sandbox.models import SandboxPaymentMethod

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "form-action 'self'; object-src 'none'")


@pytest.fixture
def postcode():
    """The container's data-postcode (empty: the card fields do not ask for it)."""
    return ""


@pytest.fixture
def entry(page, live_server, postcode):
    """A page holding only the card-entry container, served with our CSP; `entry` is the mounted driver."""
    config = SandboxGateway().browser_config() | ({"postcode": postcode} if postcode else {})
    attributes = " ".join(f'data-{key.replace("_", "-")}="{html.escape(value)}"' for key, value in config.items())
    body = (f'<!doctype html><html lang="en"><head><script src="/static/js/card_entry.js"></script>'
            f'<script src="/static/js/card_sandbox.js"></script></head><body>'
            f'<form action="/nowhere" method="post"><div id="card" data-card-entry {attributes}></div>'
            f'<button type="submit">Pay</button></form></body></html>')
    page.route(f"{live_server.url}/card-entry-page", lambda route: route.fulfill(
        status=200, body=body, headers={"Content-Type": "text/html", "Content-Security-Policy": CSP}))
    errors = []  # script errors and CSP refusals (a 400 from the tokenizer is an answer, not an error)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error"
            and "status of 400" not in message.text else None)
    page.goto(f"{live_server.url}/card-entry-page")
    page.evaluate("window.entry = PosCardEntry.mount(document.getElementById('card'))")
    expect(page.get_by_label("Card number")).to_be_visible()
    yield page
    assert errors == []


def type_card(page, number, expiry="12/40", cvc="123"):
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM/YY)").fill(expiry)
    page.get_by_label("Security code (CVC)").fill(cvc)


def start(page, script: str) -> None:
    """Run a PosCardEntry call without waiting (the page may need clicks first); `finish` waits."""
    page.evaluate(f"() => {{ window.outcome = undefined; ({script}).then(function (r) {{ window.outcome = r; }}); }}")


def finish(page) -> dict:
    page.wait_for_function("() => window.outcome !== undefined")
    return page.evaluate("window.outcome")


def test_a_typed_card_becomes_a_payment_method(entry):
    fields = entry.locator("[data-sandbox-card]")
    assert fields.count() == 4
    for index in range(4):
        assert fields.nth(index).get_attribute("name") is None
    expect(entry.get_by_label("Postcode")).to_be_hidden()  # asked only where the page wants it

    type_card(entry, "4242 4242 4242 4242")
    result = entry.evaluate("entry.createPaymentMethod()")

    assert result["id"].startswith("pm_sbx_") and result["card"]["last4"] == "4242"
    assert SandboxPaymentMethod.objects.get(pk=result["id"]).brand == "visa"


def test_a_mistyped_card_gets_the_tokenizers_message(entry):
    type_card(entry, "4242 4242 4242 4241")

    assert entry.evaluate("entry.createPaymentMethod()") == {"error": "The card number is incorrect."}
    expect(entry.get_by_label("Card number")).to_be_focused()
    assert not SandboxPaymentMethod.objects.exists()


def test_the_cardholder_confirms_a_payment_in_the_page(entry):
    type_card(entry, "4000 0025 0000 3155")
    method = entry.evaluate("entry.createPaymentMethod()")["id"]
    payment = SandboxGateway().create_card_payment(amount=1500, currency="EUR", payment_method_id=method,
                                                   idempotency_key="browser-3ds")
    assert payment.status == "requires_action"

    start(entry, f"entry.handleNextAction({json.dumps(payment.client_secret)})")
    expect(entry.get_by_text("Your bank asks you to confirm this payment")).to_be_visible()
    entry.get_by_role("button", name="Confirm").click()

    assert finish(entry) == {"status": "succeeded"}
    expect(entry.get_by_text("Your bank asks you to confirm this payment")).to_be_hidden()
    assert SandboxGateway().retrieve_payment(payment.id).status == "succeeded"


def test_the_cardholder_refuses_a_payment_in_the_page(entry):
    type_card(entry, "4000002500003155")
    method = entry.evaluate("entry.createPaymentMethod()")["id"]
    payment = SandboxGateway().create_card_payment(amount=1500, currency="EUR", payment_method_id=method,
                                                   idempotency_key="browser-3ds-refused")

    start(entry, f"entry.handleNextAction({json.dumps(payment.client_secret)})")
    entry.get_by_role("button", name="Refuse").click()

    assert finish(entry) == {"error": "The payment was not confirmed with the bank.",
                             "status": "requires_payment_method"}
    assert SandboxGateway().retrieve_payment(payment.id).status == "requires_payment_method"


def test_a_card_is_saved_after_the_bank_asks(entry):
    gateway = SandboxGateway()
    customer = gateway.create_customer(email="a@example.test", name="A", idempotency_key="browser-customer")
    setup = gateway.start_card_setup(customer_id=customer.id, idempotency_key="browser-setup")
    type_card(entry, "4000002500003155")

    start(entry, f"entry.confirmSetup({json.dumps(setup.client_secret)})")
    expect(entry.get_by_text("Your bank asks you to confirm this card")).to_be_visible()
    entry.get_by_role("button", name="Confirm").click()
    result = finish(entry)

    assert result["status"] == "succeeded" and result["id"] == setup.id
    assert [card.id for card in gateway.list_cards(customer.id)] == [result["paymentMethodId"]]


def test_a_declining_card_is_not_saved(entry):
    gateway = SandboxGateway()
    customer = gateway.create_customer(email="a@example.test", name="A", idempotency_key="browser-customer-2")
    setup = gateway.start_card_setup(customer_id=customer.id, idempotency_key="browser-setup-2")
    type_card(entry, "4000000000000002")

    result = entry.evaluate(f"entry.confirmSetup({json.dumps(setup.client_secret)})")

    assert result["error"] == "The card was declined. Ask the customer for another card."
    assert gateway.list_cards(customer.id) == []
    assert services.setup_intent_retrieve(setup_id=setup.id)["last_setup_error"]["decline_code"] == "generic_decline"


@pytest.mark.parametrize("postcode", ["required"])
def test_the_postcode_is_asked_and_kept_by_the_processor_when_the_page_wants_it(entry):
    type_card(entry, "4242 4242 4242 4242")
    assert entry.evaluate("entry.createPaymentMethod()") == {"error": "Enter the postcode."}
    expect(entry.get_by_label("Postcode")).to_be_focused()

    entry.get_by_label("Postcode").fill("75004")
    result = entry.evaluate("entry.createPaymentMethod()")

    assert SandboxPaymentMethod.objects.get(pk=result["id"]).billing_postal_code == "75004"
