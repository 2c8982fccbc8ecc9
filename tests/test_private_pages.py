"""Pages that show customers, payments or takings are never kept by a cache: every response we render
(staff pages and their htmx partials, the customer's /card/ pages, refusals and redirects, downloads)
says `Cache-Control: private, no-store`; static files keep their own caching."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.cache import get_max_age

from saved_cards import invites
from tests.factories import owner_of
from tests.retail.factories import CustomerFactory
from tests.saved_cards.builders import enable, qr_invite

pytestmark = pytest.mark.django_db


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


@pytest.fixture
def staff(client, account):
    client.force_login(owner_of(account))
    return client


def test_staff_pages_their_partials_and_downloads_are_private_and_not_stored(staff, account):
    customer = CustomerFactory(account=account, first_name="Léa", last_name="Roux")
    responses = [
        staff.get(reverse("retail:customers")),
        staff.get(reverse("retail:customer_detail", args=[customer.pk])),
        staff.get(reverse("payments:list")),
        staff.get(reverse("payments:list"), {"q": "Roux"}, HTTP_HX_REQUEST="true"),  # the results partial
        staff.get(reverse("retail:products"), {"q": "thé"}, HTTP_HX_REQUEST="true"),
        staff.get(reverse("retail:report_closures"), {"export": "csv"}),
        staff.get(reverse("retail:customer_detail", args=[customer.pk + 1000])),  # not found
    ]

    assert [response.status_code for response in responses] == [200, 200, 200, 200, 200, 200, 404]
    for response in responses:
        assert {"private", "no-store"} <= directives(response), response.request["PATH_INFO"]
        assert "public" not in directives(response)


def test_the_customers_card_pages_are_private_and_not_stored(client, account):
    enable(account)
    invite = qr_invite(CustomerFactory(account=account, first_name="Léa"))
    page = client.get(reverse("saved_cards:card_page", args=[invites.invite_token(invite)]))
    tampered = client.get(reverse("saved_cards:card_page", args=["not-a-token"]))

    assert (page.status_code, tampered.status_code) == (200, 404)
    for response in (page, tampered):
        assert {"private", "no-store"} <= directives(response)
    assert get_max_age(page) == 0  # never_cache's own directives are kept


def test_refusals_and_redirects_are_private_too(client, account):
    anonymous = client.get(reverse("retail:customers"))
    client.force_login(owner_of(account))
    assert anonymous.status_code == 302
    assert {"private", "no-store"} <= directives(anonymous)
    assert {"private", "no-store"} <= directives(client.get("/login/"))


def test_static_files_keep_their_own_caching(settings):
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = True  # as in development: no collectstatic
    response = Client().get(f"{settings.STATIC_URL}css/app.css")

    assert response.status_code == 200
    assert "no-store" not in directives(response)
