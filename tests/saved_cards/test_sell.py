"""Saved cards at the sell screen: Other payments › Saved payments (who sees it, the cards it offers,
Charge, declines in the cashier's language) and Manual entry's "Save payment details for future
purchases" (when it is offered, and the card it saves once the payment succeeds)."""


import pytest
from django.core import mail
from django.urls import reverse

from accounts import permissions as perms
from payments.models import Payment
from payments.sandbox import services as processor
from payments.sandbox.models import SandboxPaymentMethod
from payments.services.reconciling import payment_reconcile
from retail.models import Sale
from saved_cards import services
from saved_cards.models import SavedCard
from tests.factories import member
from tests.retail import report_factories as rf
from tests.retail.builders import choose_register, staff_with
from tests.retail.builders import page_text as text
from tests.saved_cards.builders import (
    DECLINES_WHEN_CHARGED,
    MASTERCARD,
    NEEDS_AUTHENTICATION,
    card_row,
    cards_state,
    enable,
    save_card,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(till_shop):
    return till_shop


@pytest.fixture
def buyer(shop):
    return rf.customer(shop, first_name="Léa", last_name="Roux", email="lea@exemple.fr")


@pytest.fixture
def cart(shop, buyer):
    """A sale in progress: 2 × 24,50 € of scarves, for Léa Roux."""
    scarf = rf.product(shop, sku="ECH-1", name="Écharpe", price=2450, rate_bp=2000)
    sale = rf.leave_in_progress(shop, [(scarf, 2)])
    Sale.objects.filter(pk=sale.pk).update(customer=buyer)
    sale.refresh_from_db()
    return sale


def till(client, shop, user):
    client.force_login(user)
    choose_register(client, shop.register)
    return client


@pytest.fixture
def cashier(client, shop):
    """A cashier whose role may use saved cards (not the preset's default)."""
    return till(client, shop, staff_with(shop.account, "sell", "manage_customers", "use_saved_payment_method"))


def sell_screen(client) -> str:
    return text(client.get(reverse("retail:sell")))


# ---- who sees Saved payments ----------------------------------------------------------------------

def test_saved_payments_shows_with_the_use_permission_and_a_customer(cashier, cart):
    assert "Saved payments" in sell_screen(cashier)


def test_a_cashier_without_use_sees_no_saved_payments_and_is_refused(client, shop, cart, buyer):
    save_card(buyer)
    till(client, shop, member(shop.account, perms.CASHIER, language="en"))
    before = cards_state(shop.account)

    assert "Saved payments" not in sell_screen(client)
    assert client.get(reverse("saved_cards:sell")).status_code == 403
    card = SavedCard.objects.get()
    assert client.post(reverse("saved_cards:sell_charge"), {"card": card.pk, "amount": "49"}).status_code == 403
    assert cards_state(shop.account) == before


def test_no_saved_payments_without_a_customer_or_with_the_feature_off(cashier, shop, cart, owner):
    Sale.objects.filter(pk=cart.pk).update(customer=None)
    assert "Saved payments" not in sell_screen(cashier)
    response = cashier.get(reverse("saved_cards:sell"), follow=True)
    assert "Attach the customer to the sale first." in text(response)

    Sale.objects.filter(pk=cart.pk).update(customer=cart.customer_id)
    services.saved_cards_disable(actor=owner, account=shop.account)
    assert "Saved payments" not in sell_screen(cashier)
    response = cashier.get(reverse("saved_cards:sell"), follow=True)
    assert "Saved payment methods are turned off for this shop" in text(response)


# ---- the page and Charge --------------------------------------------------------------------------

def test_the_page_lists_the_customers_valid_cards_with_the_default_chosen(cashier, cart, buyer):
    default = save_card(buyer)
    other = save_card(buyer, number=MASTERCARD)
    expired = card_row(buyer, last4="0005", exp=(1, 2020))

    page = text(cashier.get(reverse("saved_cards:sell")))

    assert "Visa •••• 4242" in page and "Mastercard •••• 4444" in page and "0005" not in page
    assert f'value="{default.pk}" checked' in page and f'value="{other.pk}" checked' not in page
    assert 'value="49.00"' in page and "Left to pay: <strong>€49.00</strong>" in page
    assert expired.pk


def test_charging_the_saved_card_pays_the_sale_then_complete_sale_ends_it(cashier, cart, buyer,
                                                                         django_capture_on_commit_callbacks):
    card = save_card(buyer)

    response = cashier.post(reverse("saved_cards:sell_charge"), {"card": card.pk, "amount": "49.00"})

    assert response.status_code == 302 and response["Location"] == reverse("retail:sell")
    payment = Payment.objects.get()
    assert (payment.status, payment.method, payment.amount) == (Payment.Status.SUCCEEDED, Payment.Method.SAVED_CARD,
                                                                4900)
    assert (payment.payment_method_id, payment.processor_customer_id) == (card.payment_method_id,
                                                                          card.processor_customer_id)
    cart.refresh_from_db()
    assert (cart.status, cart.balance_due) == (Sale.Status.OPEN, 0)  # paid; the cashier completes it
    screen = sell_screen(cashier)
    assert "Visa •••• 4242 charged €49.00." in screen and "Complete sale" in screen
    assert 'value="lea@exemple.fr"' in screen  # the receipt goes to the customer unless the cashier changes it

    with django_capture_on_commit_callbacks(execute=True):
        done = cashier.post(reverse("retail:sell_complete"), {"receipt_email": "lea@exemple.fr"},
                            headers={"HX-Request": "true"})

    cart.refresh_from_db()
    assert cart.status == Sale.Status.COMPLETED and f"Sale {cart.receipt} completed." in text(done)
    assert [message.to for message in mail.outbox] == [["lea@exemple.fr"]]


def test_a_card_that_declines_shows_the_reason_and_leaves_the_sale_open(cashier, cart, buyer):
    card = save_card(buyer, number=DECLINES_WHEN_CHARGED)

    response = cashier.post(reverse("saved_cards:sell_charge"), {"card": card.pk, "amount": "49.00"})

    assert response.status_code == 422
    assert "The card was declined. Ask the customer for another card." in text(response)
    cart.refresh_from_db()
    assert (cart.status, cart.balance_due) == (Sale.Status.OPEN, 4900)
    assert Payment.objects.get().status == Payment.Status.FAILED


def test_the_decline_is_shown_in_the_cashiers_language(client, shop, cart, buyer):
    card = save_card(buyer, number=DECLINES_WHEN_CHARGED)
    caissiere = till(client, shop, staff_with(shop.account, "sell", "use_saved_payment_method", language="fr"))

    response = caissiere.post(reverse("saved_cards:sell_charge"), {"card": card.pk, "amount": "49,00"})

    assert "La carte a été refusée" in text(response)


def test_a_card_needing_the_cardholder_is_refused_off_session(cashier, cart, buyer):
    card = save_card(buyer, number=NEEDS_AUTHENTICATION)
    response = cashier.post(reverse("saved_cards:sell_charge"), {"card": card.pk, "amount": "49.00"})
    assert response.status_code == 422 and "The bank asks the cardholder to confirm" in text(response)
    cart.refresh_from_db()
    assert cart.status == Sale.Status.OPEN


def test_an_expired_card_is_refused_and_nothing_changes(cashier, shop, cart, buyer):
    card_row(buyer, is_default=True)
    expired = card_row(buyer, last4="0005", exp=(1, 2020))
    before = cards_state(shop.account)

    response = cashier.post(reverse("saved_cards:sell_charge"), {"card": expired.pk, "amount": "49.00"})

    assert response.status_code == 422 and "This card has expired." in text(response)
    assert cards_state(shop.account) == before


@pytest.mark.parametrize("data,message", [
    ({"card": "", "amount": "49.00"}, "Choose one of the customer's saved cards."),
    ({"card": "abc", "amount": "49.00"}, "Choose one of the customer's saved cards."),
    ({"card": "-1", "amount": "49.00"}, "Choose one of the customer's saved cards."),
    ({"card": "²", "amount": "49.00"}, "Choose one of the customer's saved cards."),
    ({"card": "99999999999999999999", "amount": "49.00"}, "Choose one of the customer's saved cards."),
    ({"amount": "99999999999999999999"}, "The amount cannot be more than €1,000,000,000.00."),
    ({"amount": "quarante"}, "is not a valid amount"),
    ({"amount": "60.00"}, "more than what is left to pay"),
    ({"amount": "0"}, "more than zero"),
])
def test_bad_input_is_refused_and_nothing_changes(cashier, shop, cart, buyer, data, message):
    card = save_card(buyer)
    data = {"card": card.pk} | data
    before = cards_state(shop.account)

    response = cashier.post(reverse("saved_cards:sell_charge"), data)

    assert response.status_code == 422 and message in text(response)
    assert cards_state(shop.account) == before


def test_another_customers_card_is_refused(cashier, shop, cart):
    stranger = rf.customer(shop, first_name="Autre", last_name="Client")
    card = save_card(stranger)
    before = cards_state(shop.account)

    response = cashier.post(reverse("saved_cards:sell_charge"), {"card": card.pk, "amount": "49.00"})

    assert response.status_code == 422 and "Choose one of the customer's saved cards." in text(response)
    assert cards_state(shop.account) == before


def test_another_accounts_card_is_not_found(cashier, shop, cart, other_account):
    enable(other_account)
    card = save_card(rf.customer(rf.make_shop(other_account, cheque=False)))
    before = cards_state(shop.account)
    response = cashier.post(reverse("saved_cards:sell_charge"), {"card": card.pk, "amount": "49.00"})
    assert response.status_code == 404
    assert cards_state(shop.account) == before


# ---- Manual entry: "Save payment details for future purchases" ------------------------------------

def card_page(client) -> str:
    return text(client.get(reverse("payments_sell:card")))


@pytest.fixture
def adder(client, shop):
    return till(client, shop, staff_with(shop.account, "sell", "add_saved_payment_method"))


def test_the_box_shows_when_the_feature_is_on_the_cashier_may_add_and_a_customer_is_attached(adder, cart):
    page = card_page(adder)
    assert 'name="save_card"' in page and "Save payment details for future purchases" in page
    assert "confirms the customer authorised saving their card" in page


def test_the_box_is_not_offered_without_the_permission_or_with_the_feature_off(client, shop, cart, owner):
    plain = till(client, shop, staff_with(shop.account, "sell"))
    assert "Save payment details" not in card_page(plain)

    allowed = till(client, shop, staff_with(shop.account, "sell", "add_saved_payment_method", name="Adder"))
    services.saved_cards_disable(actor=owner, account=shop.account)
    assert "Save payment details" not in card_page(allowed)


def test_without_a_customer_the_page_says_to_attach_one(adder, cart):
    Sale.objects.filter(pk=cart.pk).update(customer=None)
    page = card_page(adder)
    assert 'name="save_card"' not in page
    assert "To save the card, attach the customer to the sale first" in page


def pay_and_save(client, number="4242424242424242", amount="49.00", save="1"):
    method = processor.payment_method_create(number=number, expiry="12/40", cvc="123")["id"]
    return client.post(reverse("payments_sell:card_pay"), {"payment_method_id": method, "amount": amount,
                                                           "save_card": save})


def test_paying_with_the_box_ticked_saves_the_card_to_the_customer(adder, cart, buyer):
    response = pay_and_save(adder)

    assert response.json()["status"] == "succeeded"
    card = SavedCard.objects.get(customer=buyer)
    payment = Payment.objects.get()
    assert (card.source, card.added_by, card.is_default, card.last4) == (
        SavedCard.Source.SALE, payment.created_by, True, "4242")
    assert card.payment_method_id == payment.payment_method_id and payment.save_card
    assert SandboxPaymentMethod.objects.get(pk=card.payment_method_id).customer_id == card.processor_customer_id
    cart.refresh_from_db()
    assert (cart.status, cart.balance_due) == (Sale.Status.OPEN, 0)


def test_a_card_confirmed_with_the_bank_is_saved_once_confirmed(adder, cart, buyer):
    answer = pay_and_save(adder, NEEDS_AUTHENTICATION).json()
    assert answer["status"] == "requires_action" and not SavedCard.objects.exists()
    intent_id = answer["client_secret"].split("_secret_")[0]
    processor.payment_intent_authenticate(payment_intent_id=intent_id, client_secret=answer["client_secret"],
                                          approve=True)

    finished = adder.post(answer["finish_url"]).json()

    assert finished["status"] == "succeeded"
    assert SavedCard.objects.get(customer=buyer).last4 == "3155"


def test_a_declined_payment_saves_no_card(adder, cart):
    response = pay_and_save(adder, "4000000000000002")
    assert response.json()["status"] == "failed" and not SavedCard.objects.exists()


def test_without_the_box_no_card_is_saved(adder, cart):
    assert pay_and_save(adder, save="").json()["status"] == "succeeded"
    assert not SavedCard.objects.exists() and not Payment.objects.get().save_card


def test_ticking_the_box_without_the_permission_is_refused_and_nothing_changes(client, shop, cart):
    plain = till(client, shop, staff_with(shop.account, "sell"))
    before = cards_state(shop.account)

    response = pay_and_save(plain)

    assert response.status_code == 422 and response.json()["message"] == "Saving cards is not available here."
    assert cards_state(shop.account) == before


def test_ticking_the_box_for_a_customer_with_five_cards_is_refused(adder, shop, cart, buyer):
    for index in range(5):
        card_row(buyer, is_default=index == 0)
    before = cards_state(shop.account)

    response = pay_and_save(adder)

    assert response.status_code == 422 and "already has 5 saved cards" in response.json()["message"]
    assert cards_state(shop.account) == before


def test_a_lost_answer_still_saves_the_card_once_the_payment_is_reconciled(adder, cart, buyer):
    from payments.gateway import sandbox

    with sandbox.faults("after", operation="create_card_payment", times=None), sandbox.hold_events():
        response = pay_and_save(adder)
    assert response.json()["status"] == "pending" and not SavedCard.objects.exists()

    payment = payment_reconcile(payment_id=Payment.objects.get().pk)
    payment_reconcile(payment_id=payment.pk)  # a second look changes nothing

    assert payment.status == Payment.Status.SUCCEEDED
    assert SavedCard.objects.filter(customer=buyer).count() == 1
