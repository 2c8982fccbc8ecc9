"""Sell screen › Other payments › Credit/Debit › Manual entry, as the cashier's browser calls it: the
card page, "Start payment" with the payment method id the card-entry module made, the bank's question,
and the sell screen's notice while a card payment is pending."""

import html

import pytest
from django.core import mail
from django.urls import reverse

from accounts import permissions as perms
from payments.gateway import sandbox
from payments.models import Payment
from payments.sandbox import services as processor
from payments.sandbox.events import events_deliver_pending
from payments.sandbox.models import SandboxPaymentIntent
from retail.models import Sale
from tests.factories import member, owner_of
from tests.payments.builders import card, payments_state
from tests.retail.builders import choose_register, in_english

pytestmark = pytest.mark.django_db


def till(client, shop, language):
    client.force_login(member(shop.account, perms.CASHIER, language=language))
    choose_register(client, shop.register)
    return client


@pytest.fixture
def cashier(client, shop):
    return till(client, shop, "en")


@pytest.fixture
def caissiere(client, shop):
    return till(client, shop, "fr")


def pay(client, number, amount="49,00", **extra):
    return client.post(reverse("payments_sell:card_pay"), {"payment_method_id": card(number), "amount": amount,
                                                           **extra})


def test_the_card_page_shows_what_is_left_to_pay_and_the_card_entry(caissiere, cart):
    response = caissiere.get(reverse("payments_sell:card"))
    text = html.unescape(response.content.decode())

    assert response.status_code == 200
    assert 'value="49,00"' in text and "Reste à payer" in text
    assert 'data-driver="sandbox"' in text and "card_sandbox.js" in text
    assert 'name="number"' not in text  # the card fields come from the processor's module, not our form


def test_the_card_page_needs_a_sale_with_something_to_pay(cashier, shop):
    response = cashier.get(reverse("payments_sell:card"))
    assert response.status_code == 302 and response["Location"] == reverse("retail:sell")


def screen_of(client) -> str:
    return html.unescape(client.get(reverse("retail:sell")).content.decode())


def complete(client, receipt_email=""):
    return client.post(reverse("retail:sell_complete"), {"receipt_email": receipt_email},
                       headers={"HX-Request": "true"})


def test_an_accepted_card_pays_then_complete_sale_ends_the_sale_and_e_mails_the_receipt(
        cashier, cart, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = pay(cashier, "4242424242424242", amount="49.00")

    assert response.json() == {"status": "succeeded", "redirect": reverse("retail:sell")}
    cart.refresh_from_db()
    assert (cart.status, cart.balance_due) == (Sale.Status.OPEN, 0) and mail.outbox == []
    screen = screen_of(cashier)
    assert "Card payment of €49.00 accepted." in screen and "Complete sale" in screen
    assert "Remove payment" not in screen  # a card payment is refunded from Finance › Payments, not removed

    with django_capture_on_commit_callbacks(execute=True):
        done = complete(cashier, "lea@exemple.fr")

    cart.refresh_from_db()
    assert cart.status == Sale.Status.COMPLETED and f"Sale {cart.receipt} completed." in html.unescape(
        done.content.decode())
    assert [m.to for m in mail.outbox] == [["lea@exemple.fr"]]


def test_a_decline_is_told_in_the_cashiers_language_and_the_sale_stays_open(caissiere, cart):
    response = pay(caissiere, "4000000000000002")

    assert response.json()["status"] == "failed"
    assert response.json()["message"] == "La carte a été refusée. Demandez au client une autre carte."
    cart.refresh_from_db()
    assert cart.status == Sale.Status.OPEN and cart.balance_due == 4900


def test_the_bank_asks_then_the_browser_finishes_the_payment(cashier, cart):
    answer = pay(cashier, "4000002500003155", amount="49.00").json()

    assert answer["status"] == "requires_action" and answer["client_secret"].startswith("pi_")
    intent = SandboxPaymentIntent.objects.get()
    processor.payment_intent_authenticate(payment_intent_id=intent.id, client_secret=answer["client_secret"],
                                          approve=True)
    finished = cashier.post(answer["finish_url"]).json()

    assert finished["status"] == "succeeded"
    cart.refresh_from_db()
    assert (cart.status, cart.balance_due) == (Sale.Status.OPEN, 0)
    assert "Complete sale" in screen_of(cashier)


@pytest.mark.parametrize("fields,message", [
    ({"amount": "abc"}, "“abc” is not a valid amount."),
    ({"amount": "0"}, "The amount must be more than zero."),
    ({"amount": "99999999999999999999"}, "The amount cannot be more than €1,000,000,000.00."),
    ({"amount": "60.00"}, "The amount is more than what is left to pay"),
    ({"payment_method_id": ""}, "Enter the card details."),
])
def test_bad_input_answers_422_with_the_reason_and_changes_nothing(cashier, cart, fields, message):
    before = payments_state(cart.account)
    data = {"payment_method_id": card("4242424242424242"), "amount": "49.00"} | fields

    response = cashier.post(reverse("payments_sell:card_pay"), data)

    assert response.status_code == 422 and response.json()["status"] == "invalid"
    assert message in response.json()["message"]
    assert payments_state(cart.account) == before and not SandboxPaymentIntent.objects.exists()


def test_a_pending_card_payment_shows_on_the_sell_screen_and_can_be_checked_again(cashier, cart):
    with sandbox.hold_events(), sandbox.faults("before", operation="create_card_payment", times=None):
        answer = pay(cashier, "4242424242424242", amount="49.00").json()
    assert answer["status"] == "pending"

    screen = html.unescape(cashier.get(reverse("retail:sell")).content.decode())
    assert "A card payment of €49.00 is pending" in screen and "Check again" in screen
    payment = Payment.objects.get()
    refused = pay(cashier, "4242424242424242", amount="49.00")
    assert refused.status_code == 422 and "still pending" in refused.json()["message"]

    checked = cashier.post(reverse("payments_sell:card_check", args=[payment.pk]), follow=True)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and SandboxPaymentIntent.objects.count() == 1
    screen = html.unescape(checked.content.decode())
    assert "Card payment of €49.00 accepted." in screen and "Complete sale" in screen
    assert complete(cashier).status_code == 200 and Sale.objects.get(pk=cart.pk).status == Sale.Status.COMPLETED


def test_a_payment_waiting_for_the_cardholder_can_be_cancelled_from_the_sell_screen(cashier, cart):
    pay(cashier, "4000002500003155", amount="49.00")
    screen = html.unescape(cashier.get(reverse("retail:sell")).content.decode())
    assert "waiting for the cardholder to confirm it with their bank" in screen
    payment = Payment.objects.get()

    response = cashier.post(reverse("payments_sell:card_cancel", args=[payment.pk]), follow=True)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert "The card payment was cancelled; nothing was taken." in html.unescape(response.content.decode())
    assert "is waiting for the cardholder" not in html.unescape(response.content.decode())


def test_a_payment_settled_by_the_processors_webhook_meanwhile_leaves_complete_sale_on_the_screen(
        cashier, cart, django_capture_on_commit_callbacks):
    """The cardholder confirmed with their bank on their phone, and the sell screen was left: the webhook
    settles the payment, and the screen, loaded again, shows the sale paid with "Complete sale"."""
    with sandbox.hold_events():
        answer = pay(cashier, "4000002500003155", amount="49.00").json()
        intent = SandboxPaymentIntent.objects.get()
        processor.payment_intent_authenticate(payment_intent_id=intent.id, client_secret=answer["client_secret"],
                                              approve=True)
    assert "waiting for the cardholder" in screen_of(cashier)

    with django_capture_on_commit_callbacks(execute=True):
        events_deliver_pending()

    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    screen = screen_of(cashier)
    assert "waiting for the cardholder" not in screen and "Complete sale" in screen and "€0.00" in screen


def test_after_a_declined_card_the_cashier_discards_the_sale_and_the_attempt_stays_in_payments(
        client, cashier, cart, shop):
    """The cashier gives up after a decline: the cart goes; the declined attempt stays in Finance ›
    Payments, still showing the sale it was for, which is kept as discarded (out of the history)."""
    assert pay(cashier, "4000000000000002").json()["status"] == "failed"
    failed = Payment.objects.get()

    discarded = cashier.post(reverse("retail:sell_discard"), headers={"HX-Request": "true"})

    assert discarded.status_code == 200 and "The cart is empty." in html.unescape(discarded.content.decode())
    cart.refresh_from_db()
    assert cart.status == Sale.Status.DISCARDED and cart.receipt_number is None
    assert "The cart is empty." in screen_of(cashier)
    assert cashier.post(reverse("retail:sell_add"), {"product": cart.lines.get().product_id},
                        headers={"HX-Request": "true"}).status_code == 200  # the next sale starts afresh
    assert Sale.objects.get(register=shop.register, status=Sale.Status.OPEN).pk != cart.pk

    client.force_login(in_english(owner_of(shop.account)))  # the cashier's browser, now the owner's
    listing = html.unescape(client.get(reverse("payments:list")).content.decode())
    assert "Failed" in listing and "€49.00" in listing
    detail = html.unescape(client.get(reverse("payments:detail", args=[failed.pk])).content.decode())
    assert "The card was declined." in detail and f"#{cart.pk}" in detail and "Discarded" in detail
    history = html.unescape(client.get(reverse("retail:history")).content.decode())
    assert "No sale matches these filters." in history
    assert client.get(reverse("retail:sale_detail", args=[cart.pk])).status_code == 404
