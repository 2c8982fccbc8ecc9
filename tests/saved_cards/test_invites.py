"""The customer enters their own card: the QR invitation on the staff screen (which updates by itself),
the e-mailed card-update link, and the /card/ page in every state a link can be in — valid, used,
expired, tampered, out of attempts, feature off — where an unusable link saves nothing."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import permissions as perms
from saved_cards import invites, services
from saved_cards.models import CardInvite, CardSetup, SavedCard
from saved_cards.views import qr_svg
from tests.factories import member, owner_of
from tests.retail.builders import in_english
from tests.retail.builders import page_text as text
from tests.retail.factories import CustomerFactory
from tests.saved_cards.builders import MASTERCARD, card_row, cards_state, confirm_in_browser, enable

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(account):
    enable(account)
    return CustomerFactory(account=account, first_name="Camille", last_name="Martin", email="camille@exemple.fr")


@pytest.fixture
def staff(client, account):
    client.force_login(in_english(owner_of(account)))
    return client


def qr_page(staff, customer, **headers) -> tuple[CardInvite, object]:
    response = staff.post(reverse("saved_cards:invite_create", args=[customer.pk]), **headers)
    invite = CardInvite.objects.get(customer=customer)
    assert response["Location"] == reverse("saved_cards:invite", args=[customer.pk, invite.pk])
    return invite, staff.get(response["Location"], **headers)


def phone_adds_a_card(phone, url: str, number: str = "4242424242424242") -> dict:
    """What the /card/ page's script does: start a setup with the consent, confirm it with the processor
    (card fields), then say it is done."""
    path = url.removeprefix("http://testserver")
    started = phone.post(f"{path}setups/", {"consent": "1"})
    assert started.status_code == 200, started.content
    confirm_in_browser(started.json()["client_secret"], number)
    return phone.post(started.json()["finish_url"]).json()


def test_the_staff_screen_shows_a_qr_code_of_the_signed_link(staff, customer, settings):
    settings.SITE_URL = "http://192.168.1.20:8000"  # where phones reach us; the staff screen is on localhost
    invite, page = qr_page(staff, customer, HTTP_HOST="localhost")
    body = page.content.decode()

    url = f"http://192.168.1.20:8000{invites.invite_path(invite)}"
    assert url in body and "localhost" not in body
    assert qr_svg(url) in body  # drawn here, inline (the browser journey decodes it)
    assert (invite.kind, invite.created_by) == (CardInvite.Kind.QR, owner_of(customer.account))
    assert invite.expires_at - invite.created_at == datetime.timedelta(minutes=20)


def test_the_phone_page_shows_the_shop_and_the_customers_first_name(client, customer):
    invite = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                        customer_id=customer.pk, kind=CardInvite.Kind.QR)
    response = client.get(invites.invite_path(invite), HTTP_ACCEPT_LANGUAGE="en")
    page = text(response)

    assert response.status_code == 200
    assert "Boutique Test" in page and "Hello Camille" in page and "+ Add a payment method" in page
    assert 'data-postcode="required"' in page and "I authorise Boutique Test to save this card" in page
    assert "Martin" not in page and "camille@exemple.fr" not in page  # only what the customer needs
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_phone_adds_a_card_and_the_staff_screen_turns_to_card_added(staff, client, customer):
    invite, page = qr_page(staff, customer)
    status_url = reverse("saved_cards:invite", args=[customer.pk, invite.pk])
    assert staff.get(status_url, {"since": "waiting"}, HTTP_HX_REQUEST="true").status_code == 204

    from django.test import Client

    phone = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert phone_adds_a_card(phone, f"http://testserver{invites.invite_path(invite)}") == {"status": "saved"}

    card = SavedCard.objects.get(customer=customer)
    assert (card.source, card.added_by, card.is_default) == (SavedCard.Source.QR_INVITE, invite.created_by, True)
    invite.refresh_from_db()
    assert invite.used_at is not None and invite.saved_card == card
    status = staff.get(status_url, {"since": "waiting"}, HTTP_HX_REQUEST="true")
    assert status.status_code == 200 and "<html" not in text(status)
    assert "Card added" in text(status) and "Continue" in text(status) and "hx-trigger" not in text(status)
    assert "By the customer" in text(staff.get(reverse("retail:customer_detail", args=[customer.pk])))


def test_a_used_link_shows_an_error_and_saves_nothing_more(client, customer):
    invite = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                        customer_id=customer.pk, kind=CardInvite.Kind.QR)
    path = invites.invite_path(invite)
    phone_adds_a_card(client, f"http://testserver{path}")
    before = cards_state(customer.account)

    page = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    again = client.post(f"{path}setups/", {"consent": "1"}, HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 410 and "This link has already been used" in text(page)
    assert "Nothing was saved." in text(page)
    assert again.status_code == 410 and "already been used" in again.json()["message"]
    assert cards_state(customer.account) == before


def test_an_expired_link_shows_an_error_and_saves_nothing(client, customer):
    invite = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                        customer_id=customer.pk, kind=CardInvite.Kind.QR)
    path = invites.invite_path(invite)
    before = cards_state(customer.account)

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=21)):
        page = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        started = client.post(f"{path}setups/", {"consent": "1"})

    assert page.status_code == 410 and "This link has expired" in text(page)
    assert started.status_code == 410
    assert cards_state(customer.account) == before


def test_a_setup_started_in_time_can_finish_after_the_expiry(client, customer):
    invite = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                        customer_id=customer.pk, kind=CardInvite.Kind.QR)
    path = invites.invite_path(invite)
    started = client.post(f"{path}setups/", {"consent": "1"}).json()
    confirm_in_browser(started["client_secret"])

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=21)):
        assert client.post(started["finish_url"]).json() == {"status": "saved"}

    assert SavedCard.objects.filter(customer=customer).count() == 1


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature
    lambda token: "x" + token,  # the signed value
    lambda token: "not-a-token",
])
def test_a_tampered_link_is_not_found_and_saves_nothing(client, customer, tamper):
    invite = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                        customer_id=customer.pk, kind=CardInvite.Kind.QR)
    token = tamper(invites.invite_token(invite))
    before = cards_state(customer.account)

    page = client.get(reverse("saved_cards:card_page", args=[token]), HTTP_ACCEPT_LANGUAGE="en")
    started = client.post(reverse("saved_cards:card_setup_start", args=[token]), {"consent": "1"})

    assert page.status_code == 404 and "This link is not valid" in text(page)
    assert started.status_code == 404
    assert cards_state(customer.account) == before


def test_a_signed_key_of_no_invitation_is_not_found(client, customer):
    from django.core import signing

    token = signing.Signer(salt=invites.SALT).sign("made-up-key")
    assert client.get(reverse("saved_cards:card_page", args=[token])).status_code == 404


def test_a_link_allows_a_few_attempts_only(client, customer):
    invite = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                        customer_id=customer.pk, kind=CardInvite.Kind.QR)
    path = invites.invite_path(invite)
    for _ in range(services.MAX_INVITE_ATTEMPTS):
        assert client.post(f"{path}setups/", {"consent": "1"}).status_code == 200
    before = cards_state(customer.account)

    refused = client.post(f"{path}setups/", {"consent": "1"}, HTTP_ACCEPT_LANGUAGE="en")

    assert refused.status_code == 410 and "Too many attempts" in refused.json()["message"]
    assert cards_state(customer.account) == before


def test_the_customers_consent_is_required(client, customer):
    invite = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                        customer_id=customer.pk, kind=CardInvite.Kind.QR)
    before = cards_state(customer.account)

    response = client.post(f"{invites.invite_path(invite)}setups/", {}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 422 and "authorised saving this card" in response.json()["message"]
    assert cards_state(customer.account) == before


def test_a_link_stops_working_when_the_feature_is_turned_off(client, customer):
    invite = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                        customer_id=customer.pk, kind=CardInvite.Kind.QR)
    services.saved_cards_disable(actor=owner_of(customer.account), account=customer.account)
    before = cards_state(customer.account)

    page = client.get(invites.invite_path(invite), HTTP_ACCEPT_LANGUAGE="en")
    started = client.post(f"{invites.invite_path(invite)}setups/", {"consent": "1"})

    assert page.status_code == 410 and "no longer saves payment methods" in text(page)
    assert started.status_code == 410
    assert cards_state(customer.account) == before


def test_another_invitations_setup_cannot_be_finished_through_this_link(client, customer):
    first = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                       customer_id=customer.pk, kind=CardInvite.Kind.QR)
    second = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                        customer_id=customer.pk, kind=CardInvite.Kind.QR)
    started = client.post(f"{invites.invite_path(first)}setups/", {"consent": "1"}).json()
    confirm_in_browser(started["client_secret"])
    setup = CardSetup.objects.get()

    wrong = client.post(reverse("saved_cards:card_setup_finish", args=[invites.invite_token(second), setup.pk]))

    assert wrong.status_code == 422 and not SavedCard.objects.exists()


def test_the_staff_screen_offers_a_new_code_once_it_expired(staff, customer):
    invite, _page = qr_page(staff, customer)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=21)):
        status = staff.get(reverse("saved_cards:invite", args=[customer.pk, invite.pk]), {"since": "waiting"},
                           HTTP_HX_REQUEST="true")
    assert "This QR code can no longer be used" in text(status) and "Show a new QR code" in text(status)


def test_inviting_needs_the_add_permission(client, account, customer):
    client.force_login(member(account, perms.MANAGER))
    before = cards_state(account)
    assert client.post(reverse("saved_cards:invite_create", args=[customer.pk])).status_code == 403
    assert client.post(reverse("saved_cards:update_link", args=[customer.pk])).status_code == 403
    assert cards_state(account) == before


def test_a_customer_with_five_cards_cannot_be_invited(staff, customer):
    for index in range(5):
        card_row(customer, is_default=index == 0)
    before = cards_state(customer.account)
    response = staff.post(reverse("saved_cards:invite_create", args=[customer.pk]), follow=True)
    assert "already has 5 saved cards" in text(response)
    assert cards_state(customer.account) == before


# ---- the e-mailed card-update link ----------------------------------------------------------------

def test_the_card_update_link_is_e_mailed_in_the_shops_language(staff, customer, settings,
                                                                django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://pos.example.test"
    with time_machine.travel(datetime.datetime(2026, 5, 4, 9, tzinfo=datetime.UTC), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("saved_cards:update_link", args=[customer.pk]), follow=True)

    invite = CardInvite.objects.get(kind=CardInvite.Kind.EMAIL)
    assert "A card-update link was e-mailed to camille@exemple.fr; it works once, for 3 days." in text(response)
    assert (invite.sent_to, invite.expires_at - invite.created_at) == ("camille@exemple.fr", datetime.timedelta(days=3))
    [message] = mail.outbox
    assert message.to == ["camille@exemple.fr"]
    link = f"https://pos.example.test{invites.invite_path(invite)}"
    assert link in message.body and link in message.alternatives[0][0]
    assert "Boutique Test" in message.subject and "Camille" in message.body
    assert "7 mai 2026 11:00" in message.body  # the shop's language and time zone, not the staff member's


def test_a_card_added_from_the_update_link_becomes_the_default(client, customer):
    old = card_row(customer, is_default=True)
    invite = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                        customer_id=customer.pk, kind=CardInvite.Kind.EMAIL)

    phone_adds_a_card(client, f"http://testserver{invites.invite_path(invite)}", MASTERCARD)

    new = SavedCard.objects.get(source=SavedCard.Source.UPDATE_LINK)
    old.refresh_from_db()
    assert (new.is_default, old.is_default, new.last4) == (True, False, "4444")


def test_no_link_for_a_customer_without_an_e_mail_address(staff, account):
    enable(account)
    nameless = CustomerFactory(account=account, email="")
    before = cards_state(account)
    response = staff.post(reverse("saved_cards:update_link", args=[nameless.pk]), follow=True)
    assert "This customer has no e-mail address" in text(response)
    assert cards_state(account) == before and not mail.outbox


def test_a_second_setup_started_from_the_same_link_saves_nothing_once_the_first_saved(
        client, customer, django_capture_on_commit_callbacks):
    invite = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                        customer_id=customer.pk, kind=CardInvite.Kind.QR)
    path = invites.invite_path(invite)
    first = client.post(f"{path}setups/", {"consent": "1"}).json()
    second = client.post(f"{path}setups/", {"consent": "1"}).json()  # another tab
    confirm_in_browser(first["client_secret"])
    method = confirm_in_browser(second["client_secret"], MASTERCARD)
    assert client.post(first["finish_url"]).json() == {"status": "saved"}

    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(second["finish_url"], HTTP_ACCEPT_LANGUAGE="en")

    assert refused.status_code == 422 and "already been used" in refused.json()["message"]
    assert [card.last4 for card in SavedCard.objects.filter(customer=customer)] == ["4242"]
    from payments.sandbox.models import SandboxPaymentMethod

    assert SandboxPaymentMethod.objects.get(pk=method).customer_id is None
