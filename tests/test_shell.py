"""The layout around every page: the menu as the help-centre articles name it, and the development
mail pages where a demo user reads what the worker sent."""

import html
import logging

import pytest
from django.core.mail import EmailMultiAlternatives
from django.urls import resolve, reverse

from accounts import permissions as perms
from posbackoffice.navigation import MENU
from posbackoffice.outbox import OutboxBackend
from tests.factories import member, suspend, with_addons

pytestmark = pytest.mark.django_db


def test_menu_keeps_headings_that_say_more_than_their_only_item(client, owner):
    owner.language = "fr"
    owner.save(update_fields=["language"])
    client.force_login(owner)
    text = html.unescape(client.get("/setup/activity/").content.decode())
    assert '<p class="nav-heading">Stocks</p>' in text  # Stocks › Expéditions, as in the articles
    assert "Expéditions" in text
    assert '<p class="nav-heading">Produits</p>' not in text  # "Produits › Produits" would only repeat


def test_a_cashier_sees_only_what_the_role_allows(client, account):
    client.force_login(member(account, perms.CASHIER, language="en"))
    sections = {str(s["label"]): [str(i["label"]) for i in s["items"]]
                for s in client.get("/sell/").context["menu"]}
    assert "Finance" not in sections and "Reports" not in sections
    assert "Staff roles" not in sections.get("Setup", []) and "Billing" not in sections.get("Setup", [])
    assert sections["Sell"] == ["Sell", "Sales history"]


def menu_of(client, path="/setup/activity/") -> dict[str, list[str]]:
    return {str(s["label"]): [str(i["label"]) for i in s["items"]] for s in client.get(path).context["menu"]}


@pytest.mark.parametrize("item", [item for section in MENU for item in section.items], ids=lambda i: i.url_name)
def test_each_menu_entry_asks_what_its_page_asks(item):
    access = resolve(reverse(item.url_name)).func.access
    assert (item.permission, item.addon) == (access.permission, access.addon)


def test_an_add_on_entry_shows_only_when_the_add_on_is_on_and_the_role_allows_it(client, account):
    owner = member(account, perms.ADMIN, language="en")
    cashier = member(account, perms.CASHIER, language="en")
    client.force_login(owner)
    assert "Subscriptions" not in menu_of(client)  # the add-on is off

    with_addons(account, "subscriptions")

    assert menu_of(client)["Subscriptions"] == ["Manage plans", "Subscribe a customer", "Manage subscriptions",
                                                "Dashboard", "Settings"]
    client.force_login(cashier)
    assert "Subscriptions" not in menu_of(client, "/sell/")  # on, but the role does not grant it


def test_a_suspended_account_shows_only_the_pages_that_stay_open(client, account):
    with_addons(account)
    suspend(account)
    client.force_login(member(account, perms.ADMIN, language="en"))
    assert menu_of(client, reverse("account_inactive")) == {"Setup": ["Billing", "Integrations"]}
    client.force_login(member(account, perms.CASHIER, language="en"))
    assert menu_of(client, reverse("account_inactive")) == {}


@pytest.fixture
def outbox(settings, tmp_path):
    settings.DEBUG = True
    settings.EMAIL_OUTBOX_DIR = tmp_path
    return OutboxBackend(folder=str(tmp_path))


def test_dev_mail_pages_list_and_show_sent_messages(client, outbox):
    message = EmailMultiAlternatives("Votre lien de paiement", "Bonjour Léa", to=["lea@shop.test"],
                                     connection=outbox)
    message.attach_alternative("<p>Bonjour <b>Léa</b></p>", "text/html")
    message.attach("facture.pdf", b"%PDF-1.4", "application/pdf")
    message.send()

    listing = client.get("/dev/mail/")
    assert listing.status_code == 200
    sent = listing.context["messages_sent"]
    assert [(m.subject, m.to) for m in sent] == [("Votre lien de paiement", "lea@shop.test")]

    detail = client.get(f"/dev/mail/{sent[0].key}/")
    text = detail.content.decode()
    assert detail.status_code == 200 and "Bonjour Léa" in text and "facture.pdf" in text
    html_part = client.get(f"/dev/mail/{sent[0].key}/html/")
    assert b"<b>L\xc3\xa9a</b>" in html_part.content
    assert "sandbox" in html_part["Content-Security-Policy"]  # the e-mail's HTML cannot run anything


def test_dev_mail_pages_refuse_paths_and_exist_only_in_debug(client, outbox, settings):
    assert client.get("/dev/mail/..%2Fsecret_key/").status_code == 404
    assert client.get("/dev/mail/nothing-here/").status_code == 404
    settings.DEBUG = False
    assert client.get("/dev/mail/").status_code == 404


def test_a_refused_page_is_one_line_in_the_log(client, account, caplog):
    cashier = member(account, perms.CASHIER, language="en")
    client.force_login(cashier)
    with caplog.at_level(logging.INFO):
        response = client.get("/setup/staff-roles/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 403 and "Your staff role does not allow this." in response.content.decode()
    logged = [(record.name, record.levelname, record.getMessage(), record.exc_info) for record in caplog.records]
    assert logged == [("posbackoffice.refused", "WARNING",
                       f"Forbidden GET /setup/staff-roles/ (user {cashier.pk}): Your staff role does not allow this.",
                       None)]
