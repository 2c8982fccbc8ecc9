"""The customer's pay page (/pay/<token>/): what it shows, paying with a card (3-D Secure when the card asks),
the thank-you page and the confirmation e-mail; what happens on the sale, its register, the staff bell."""

import json

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Notification, OutgoingEmail
from paylinks.models import PayLink, PayLinkEmail
from paylinks.services import pay_link_deactivate
from payments.models import Payment
from retail.models import RegisterSession, Sale
from retail.services.registers import register_close
from tests.factories import suspend
from tests.paylinks.builders import card, on_account_sale, online_shop, sent_link, state, token
from tests.retail.builders import page_text

pytestmark = pytest.mark.django_db


def _pay(client, link, number="4242424242424242", amount=None):
    response = client.post(reverse("paylinks:pay_start", kwargs={"token": token(link)}),
                           {"payment_method_id": card(number), "amount": amount or "24,50"})
    return response, json.loads(response.content)


def test_the_page_shows_the_shop_the_receipt_its_items_and_the_amount(client, account):
    shop = online_shop(account)
    sale = on_account_sale(shop)
    link = sent_link(shop, sale)
    response = client.get(reverse("paylinks:pay", kwargs={"token": token(link)}))
    assert response.status_code == 200
    text = page_text(response)
    assert account.name in text and sale.receipt in text and "Bougie parfumée" in text and "24,50" in text
    assert "data-card-entry" in response.content.decode()


def test_paying_settles_the_sale_completes_the_link_and_notifies_the_seller(client, account,
                                                                           django_capture_on_commit_callbacks):
    shop = online_shop(account)
    sale = on_account_sale(shop)
    link = sent_link(shop, sale)
    with django_capture_on_commit_callbacks(execute=True):
        response, answer = _pay(client, link)
    assert answer == {"status": "succeeded", "redirect": reverse("paylinks:paid", kwargs={"token": token(link)})}
    link.refresh_from_db()
    sale.refresh_from_db()
    payment = Payment.objects.get(sale=sale)
    assert link.status == PayLink.Status.COMPLETED and link.paid_at is not None and link.payment == payment
    assert payment.mode == Payment.Mode.ONLINE and payment.purpose == Payment.Purpose.SALE
    assert payment.status == Payment.Status.SUCCEEDED and payment.amount == 2450
    assert sale.status == Sale.Status.COMPLETED and sale.balance_due == 0
    assert sale.customer.balance == 0
    note = Notification.objects.get(user=sale.created_by)
    assert "24,50" in note.text and sale.receipt in note.text and "Camille Martin" in note.text
    assert note.url == reverse("retail:sale_detail", kwargs={"sale_id": sale.pk})
    assert PayLinkEmail.objects.filter(link=link, kind=PayLinkEmail.Kind.CONFIRMATION, queued_at__isnull=False).exists()
    confirmation = OutgoingEmail.objects.filter(recipients=["camille@example.test"]).order_by("-pk").first()
    assert confirmation.subject.startswith("Paiement reçu") and sale.receipt in confirmation.subject
    thanks = client.get(answer["redirect"])
    assert thanks.status_code == 200 and "24,50" in page_text(thanks)


def test_a_payment_while_the_register_is_closed_opens_it_with_a_zero_float(client, account,
                                                                          django_capture_on_commit_callbacks):
    shop = online_shop(account)
    sale = on_account_sale(shop)
    link = sent_link(shop, sale)
    session = RegisterSession.objects.get(register=shop.register, status="open")
    register_close(actor=shop.actor, account=account, session_id=session.pk, counted={})
    with django_capture_on_commit_callbacks(execute=True):
        _pay(client, link)
    opened = RegisterSession.objects.get(register=shop.register, status="open")
    assert opened.opening_float == 0 and opened.opened_by is None
    assert sale.payments.get(amount=2450).session == opened
    assert AuditEvent.objects.filter(account=account, action="register.opened_by_online_payment").exists()


def test_3d_secure_card_asks_then_pays(client, account, django_capture_on_commit_callbacks):
    from payments.sandbox import services as processor
    from payments.sandbox.models import SandboxPaymentIntent

    shop = online_shop(account)
    sale = on_account_sale(shop)
    link = sent_link(shop, sale)
    response, answer = _pay(client, link, number="4000002500003155")
    assert answer["status"] == "requires_action" and answer["client_secret"].startswith("pi_")
    assert PayLink.objects.get(pk=link.pk).status == PayLink.Status.ACTIVE
    # While the bank waits for the cardholder, a second attempt is turned away.
    again, refused = _pay(client, link)
    assert again.status_code == 422 and Payment.objects.filter(sale=sale).count() == 1
    intent = SandboxPaymentIntent.objects.get()
    processor.payment_intent_authenticate(payment_intent_id=intent.id, client_secret=answer["client_secret"],
                                          approve=True)
    with django_capture_on_commit_callbacks(execute=True):
        finished = json.loads(client.post(answer["finish_url"]).content)
    assert finished["status"] == "succeeded"
    assert PayLink.objects.get(pk=link.pk).status == PayLink.Status.COMPLETED


@pytest.mark.parametrize("change", ["deactivated", "paid", "unknown", "tampered", "balance"])
def test_a_link_that_cannot_be_paid_shows_an_error_page_and_charges_nothing(client, account, change):
    shop = online_shop(account)
    sale = on_account_sale(shop)
    link = sent_link(shop, sale)
    pay_token = token(link)
    if change == "deactivated":
        pay_link_deactivate(actor=shop.actor, account=account, link_id=link.pk)
    elif change == "paid":
        PayLink.objects.filter(pk=link.pk).update(status=PayLink.Status.COMPLETED)
    elif change == "unknown":
        pay_token = "made-up:token"
    elif change == "tampered":
        pay_token = pay_token[:-2] + ("AA" if not pay_token.endswith("AA") else "BB")
    elif change == "balance":
        Sale.objects.filter(pk=sale.pk).update(paid_total=100)
    before = state(account)
    page = client.get(reverse("paylinks:pay", kwargs={"token": pay_token}))
    assert page.status_code in (404, 410)
    assert "This link cannot be used" in page_text(page) or "Ce lien ne peut pas être utilisé" in page_text(page)
    response = client.post(reverse("paylinks:pay_start", kwargs={"token": pay_token}),
                           {"payment_method_id": card(), "amount": "24,50"})
    assert response.status_code in (404, 422)
    assert state(account) == before


def test_a_tampered_amount_charges_nothing(client, account):
    shop = online_shop(account)
    link = sent_link(shop, on_account_sale(shop))
    before = state(account)
    response, answer = _pay(client, link, amount="0,50")
    assert response.status_code == 422 and answer["status"] == "invalid" and "24,50" in answer["message"]
    assert state(account) == before


def test_paying_twice_takes_one_payment(client, account, django_capture_on_commit_callbacks):
    shop = online_shop(account)
    sale = on_account_sale(shop)
    link = sent_link(shop, sale)
    with django_capture_on_commit_callbacks(execute=True):
        _pay(client, link)
    response, answer = _pay(client, link)
    assert response.status_code == 422 and answer["status"] == "invalid"
    assert Payment.objects.filter(sale=sale).count() == 1


def test_a_declined_card_leaves_the_link_active_for_another_card(client, account):
    shop = online_shop(account)
    sale = on_account_sale(shop)
    link = sent_link(shop, sale)
    response, answer = _pay(client, link, number="4000000000000002")
    assert answer["status"] == "failed" and answer["message"]
    assert PayLink.objects.get(pk=link.pk).status == PayLink.Status.ACTIVE
    response, answer = _pay(client, link)
    assert answer["status"] == "succeeded"


def test_a_shop_that_is_not_active_shows_the_closed_page(client, account):
    shop = online_shop(account)
    link = sent_link(shop, on_account_sale(shop))
    suspend(account)
    before = state(account)
    response = client.get(reverse("paylinks:pay", kwargs={"token": token(link)}))
    assert response.status_code == 403
    response = client.post(reverse("paylinks:pay_start", kwargs={"token": token(link)}),
                           {"payment_method_id": card(), "amount": "24,50"})
    assert response.status_code == 403
    assert state(account) == before


def test_the_pay_pages_are_rate_limited_per_address(client, account, settings):
    shop = online_shop(account)
    link = sent_link(shop, on_account_sale(shop))
    url = reverse("paylinks:pay", kwargs={"token": token(link)})
    # A cache of this process only: the shared Redis cache fails open (counts nothing) when it is slow to
    # answer, as it may be on a busy test machine; the counting is what is tested here.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "paylinks-rate-limit"}}
    with time_machine.travel(timezone.now(), tick=False):  # one window of the counter
        codes = [client.get(url, REMOTE_ADDR="203.0.113.7").status_code for _ in range(61)]
        elsewhere = client.get(url, REMOTE_ADDR="203.0.113.8").status_code
    assert codes[:60] == [200] * 60 and codes[60] == 429 and elsewhere == 200


def test_the_invoice_downloads_as_a_pdf_with_the_receipt_number(client, account):
    from tests.readers import pdf_pages_text

    shop = online_shop(account)
    sale = on_account_sale(shop)
    link = sent_link(shop, sale)
    response = client.get(reverse("paylinks:invoice", kwargs={"token": token(link)}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_pages_text(response.content))
    assert sale.receipt in text and "Bougie parfumée" in text and "24,50" in text
