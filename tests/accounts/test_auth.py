import html

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def _login(client, email, password, **extra):
    return client.post("/login/", {"username": email, "password": password}, **extra)


def test_login_with_email_and_password(client, owner):
    response = _login(client, owner.email, "pass-word-123")
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # home sends the user to their first page


def test_wrong_password_gets_a_generic_message_in_the_users_language(client, owner):
    response = _login(client, owner.email, "wrong", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    generic = "The e-mail address or the password is not right."
    assert generic in response.content.decode()
    unknown = _login(client, "nobody@shop.test", "wrong", HTTP_ACCEPT_LANGUAGE="en")
    assert generic in unknown.content.decode()  # the same words: nothing tells which accounts exist
    french = _login(client, owner.email, "wrong", HTTP_ACCEPT_LANGUAGE="fr")
    assert "L’adresse e-mail ou le mot de passe est incorrect." in html.unescape(french.content.decode())


def test_repeated_failures_lock_the_login(client, owner, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, owner.email, "wrong")
    response = _login(client, owner.email, "pass-word-123", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_email_is_sent_by_the_worker_task(client, owner, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://pos.example.test"
    with django_capture_on_commit_callbacks(execute=True):
        # The request's Host is not where the link leads: the e-mail is read elsewhere, SITE_URL is the address.
        response = client.post("/password-reset/", {"email": owner.email}, HTTP_ACCEPT_LANGUAGE="fr",
                               HTTP_HOST="localhost")
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.email]
    link = next(line for line in message.body.splitlines() if "/password-reset/" in line).strip()
    assert link.startswith("https://pos.example.test/password-reset/")
    assert "localhost" not in message.body and "testserver" not in message.body
    path = link.removeprefix("https://pos.example.test")
    response = client.get(path, follow=True)
    assert response.status_code == 200
    response = client.post(response.redirect_chain[-1][0],
                           {"new_password1": "Nouveau-mot-2-passe", "new_password2": "Nouveau-mot-2-passe"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("Nouveau-mot-2-passe")


def test_password_reset_for_unknown_address_sends_nothing_and_says_the_same(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/password-reset/", {"email": "nobody@shop.test"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_language_switch_is_remembered_on_the_user(client, owner):
    client.force_login(owner)
    response = client.post("/me/language/", {"language": "en", "next": "/setup/"})
    assert response.status_code == 302 and response["Location"] == "/setup/"
    owner.refresh_from_db()
    assert owner.language == "en"
    page = client.get("/setup/").content.decode()
    assert "General settings" in page
    client.post("/me/language/", {"language": "fr"})
    page = client.get("/setup/").content.decode()
    assert "Options générales" in page


def test_language_switch_refuses_unknown_languages(client, owner):
    client.force_login(owner)
    client.post("/me/language/", {"language": "de"})
    owner.refresh_from_db()
    assert owner.language == ""


def test_open_redirects_are_refused(client, owner):
    client.force_login(owner)
    response = client.post("/me/language/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_user_without_membership_gets_a_friendly_403(client):
    user = UserFactory()
    client.force_login(user)
    response = client.get("/setup/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "not a member of any merchant account" in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()


def test_the_account_switcher_moves_between_the_users_own_accounts(client, owner, account):
    owner.language = "en"
    owner.save(update_fields=["language"])
    elsewhere = AccountFactory(name="Autre Boutique", owner=owner)
    client.force_login(owner)

    client.post(reverse("account_switch"), {"account": elsewhere.pk})
    assert client.session["account_id"] == elsewhere.pk


@pytest.mark.parametrize("value", ["abc", "", "²", "１２", str(2**63), "99999999999999999999", "1\x00"])
def test_the_account_switcher_refuses_what_is_not_an_account_of_the_user(client, owner, account, other_account,
                                                                        value):
    owner.language = "en"
    owner.save(update_fields=["language"])
    client.force_login(owner)

    for refused in (value, str(other_account.pk)):
        response = client.post(reverse("account_switch"), {"account": refused}, follow=True)

        assert "You are not on the staff of that account." in html.unescape(response.content.decode())
        assert "account_id" not in client.session
