"""The Stripe card-entry driver (static/js/card_stripe.js) in a real browser, under the CSP a card-entry
page gets with Stripe (payments.card_entry): PosCardEntry.mount on a container carrying the stripe
adapter's browser_config, then createPaymentMethod, handleNextAction and confirmSetup answering in the
same shape as the sandbox driver. Stripe.js is a stand-in (fake_stripe.js) served at js.stripe.com by the
test's routes, its card frame from js.stripe.com and its calls to api.stripe.com, so a CSP that forgot one
of Stripe's origins fails here."""

import html
import json
from pathlib import Path

import pytest
from django.utils.csp import build_policy
from playwright.sync_api import expect

from payments.card_entry import card_entry_csp
from payments.gateway.stripe import StripeGateway

pytestmark = pytest.mark.browser  # no database: the page and Stripe are the routes below, static files the server

FAKE_STRIPE_JS = Path(__file__).with_name("fake_stripe.js").read_text()
FALLBACK = "Something went wrong. Check the connection and try again."


def open_page(page, live_server, *, lang="en", stripe_js=True):
    """A page holding only the card-entry container; `entry` is the mounted driver. Returns the list the
    api.stripe.com answers are taken from, and the list of script errors and CSP refusals."""
    config = StripeGateway(secret_key="sk_test_browser", publishable_key="pk_test_browser").browser_config()
    attributes = " ".join(f'data-{key.replace("_", "-")}="{html.escape(value)}"' for key, value in config.items())
    body = (f'<!doctype html><html lang="{lang}"><head><script src="https://js.stripe.com/v3/"></script>'
            f'<script src="/static/js/card_entry.js"></script><script src="/static/js/card_stripe.js"></script>'
            f'</head><body><form data-text-error="{FALLBACK}"><div id="card" data-card-entry {attributes}></div>'
            f'</form></body></html>')
    csp = build_policy(card_entry_csp("stripe"))
    answers, errors = [], []
    page.route(f"{live_server.url}/stripe-card-entry-page", lambda route: route.fulfill(
        status=200, body=body, headers={"Content-Type": "text/html", "Content-Security-Policy": csp}))
    if stripe_js:
        page.route("https://js.stripe.com/v3/", lambda route: route.fulfill(
            status=200, body=FAKE_STRIPE_JS, headers={"Content-Type": "application/javascript"}))
    else:
        page.route("https://js.stripe.com/v3/", lambda route: route.abort())
    page.route("https://js.stripe.com/v3/elements-inner-card.html", lambda route: route.fulfill(
        status=200, body='<!doctype html><input aria-label="Card number">', headers={"Content-Type": "text/html"}))
    page.route("https://api.stripe.com/**", lambda route: route.fulfill(
        status=200, body=json.dumps(answers.pop(0)),
        headers={"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"}))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server.url}/stripe-card-entry-page")
    page.evaluate("window.entry = PosCardEntry.mount(document.getElementById('card'))")
    return answers, errors


def test_the_card_element_is_mounted_with_the_publishable_key_in_the_pages_language(page, live_server):
    _answers, errors = open_page(page, live_server, lang="fr")

    expect(page.frame_locator("#card iframe").get_by_label("Card number")).to_be_visible()
    assert page.evaluate("window.fakeStripe") == {
        "publishableKey": "pk_test_browser", "locale": "fr", "elementsLocale": "fr", "element": "card", "focused": 0}
    assert errors == []


def test_a_card_becomes_a_payment_method(page, live_server):
    answers, errors = open_page(page, live_server)
    answers.append({"id": "pm_1Browser", "object": "payment_method", "type": "card",
                    "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}})

    assert page.evaluate("entry.createPaymentMethod()") == {
        "id": "pm_1Browser", "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}}
    assert errors == []


def test_a_refused_card_gets_stripes_message_and_the_focus(page, live_server):
    answers, errors = open_page(page, live_server)
    answers.append({"error": {"type": "validation_error", "code": "incomplete_number",
                              "message": "Your card number is incomplete."}})

    assert page.evaluate("entry.createPaymentMethod()") == {"error": "Your card number is incomplete."}
    assert page.evaluate("window.fakeStripe.focused") == 1
    assert errors == []


def test_the_banks_question_ends_in_the_payments_status(page, live_server):
    answers, errors = open_page(page, live_server)
    answers.append({"id": "pi_1Browser", "object": "payment_intent", "status": "succeeded"})
    answers.append({"error": {"type": "card_error", "code": "payment_intent_authentication_failure",
                              "message": "We are unable to authenticate your payment method.",
                              "payment_intent": {"id": "pi_2Browser", "status": "requires_payment_method"}}})

    assert page.evaluate("entry.handleNextAction('pi_1Browser_secret_x')") == {"status": "succeeded"}
    assert page.evaluate("entry.handleNextAction('pi_2Browser_secret_y')") == {
        "error": "We are unable to authenticate your payment method.", "status": "requires_payment_method"}
    assert errors == []


def test_a_card_setup_answers_the_setup_and_its_payment_method(page, live_server):
    answers, errors = open_page(page, live_server)
    answers.append({"id": "seti_1Browser", "object": "setup_intent", "status": "succeeded",
                    "payment_method": "pm_1Saved"})
    answers.append({"error": {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                              "message": "Your card was declined."}})

    assert page.evaluate("entry.confirmSetup('seti_1Browser_secret_x')") == {
        "status": "succeeded", "id": "seti_1Browser", "paymentMethodId": "pm_1Saved"}
    assert page.evaluate("entry.confirmSetup('seti_2Browser_secret_y')") == {"error": "Your card was declined."}
    assert errors == []


def test_without_stripe_js_every_call_says_the_pages_message(page, live_server):
    _answers, errors = open_page(page, live_server, stripe_js=False)

    for call in ("entry.createPaymentMethod()", "entry.handleNextAction('pi_1_secret_x')",
                 "entry.confirmSetup('seti_1_secret_x')"):
        assert page.evaluate(call) == {"error": FALLBACK}
    assert errors == ["Failed to load resource: net::ERR_FAILED"]  # Stripe.js itself, and nothing else
