"""The page helpers every app's views share (posbackoffice.pages): a page or its htmx partial, always
with `Vary: HX-Request`; and the one way a view answers a refused action (a DomainError) with 422."""

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.test import RequestFactory
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from posbackoffice.errors import DomainError
from posbackoffice.pages import REFUSED, refusals, render_page
from tests.factories import owner_of
from tests.retail.builders import in_english

pytestmark = pytest.mark.django_db


def htmx_request(**headers):
    request = RequestFactory().get("/", **headers)
    request.htmx = HtmxDetails(request)
    return request


def test_the_page_its_partial_and_a_history_restore_each_vary_on_hx_request():
    template = "shell/section_intro.html"  # any template: it has no partial, so render only the page
    page = render_page(htmx_request(), template, {"title": "T", "description": "D"})
    restore = render_page(htmx_request(HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"), template,
                          {"title": "T", "description": "D"}, status=400)

    assert page.status_code == 200 and "<h1" in page.content.decode()
    assert restore.status_code == 400 and "<h1" in restore.content.decode()  # htmx's cache missed: the page
    assert page["Vary"] == restore["Vary"] == "HX-Request"


LIST_PAGES = ["retail:history", "retail:customers", "retail:products", "payments:list", "setup:activity",
              "retail:report_sales"]


@pytest.mark.parametrize("url_name", LIST_PAGES)
def test_every_list_answers_its_page_or_its_results_and_varies_on_hx_request(client, account, url_name):
    client.force_login(in_english(owner_of(account)))

    page = client.get(reverse(url_name))
    partial = client.get(reverse(url_name), HTTP_HX_REQUEST="true")
    restore = client.get(reverse(url_name), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")

    assert page.status_code == partial.status_code == restore.status_code == 200
    assert "<html" in page.content.decode() and "<html" in restore.content.decode()
    assert "<html" not in partial.content.decode()
    assert all("HX-Request" in response["Vary"] for response in (page, partial, restore))


def _post_request():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_a_refusal_is_answered_by_the_views_own_answer_with_422():
    answered = []

    def respond(request, message, item_id):
        answered.append((message, item_id))
        return JsonResponse({"message": str(message)})

    @refusals(respond)
    def action(request, item_id):
        raise DomainError("Not now.")

    response = action(_post_request(), item_id=7)

    assert response.status_code == REFUSED == 422
    assert answered == [("Not now.", 7)] and response.content == b'{"message": "Not now."}'


def test_a_refusal_answered_by_a_redirect_stays_a_redirect_and_success_is_untouched():
    @refusals(lambda request, message: redirect("/back/"))
    def refused(request):
        raise DomainError("No.")

    @refusals(lambda request, message: HttpResponse("refused"))
    def done(request):
        return HttpResponse("done", status=201)

    assert refused(_post_request()).status_code == 302
    assert done(_post_request()).status_code == 201


def test_other_errors_are_not_refusals():
    @refusals(lambda request, message: HttpResponse(message))
    def broken(request):
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        broken(_post_request())
