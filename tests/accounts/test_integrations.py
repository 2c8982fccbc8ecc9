"""Setup › Integrations: Xero (sandbox adapter) connect, disconnect, posting status and Post now;
third-party apps connect and Cancel; who may; another account's ids; what the hold is told."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts import integration_selectors
from accounts import integration_services as services
from accounts import permissions as perms
from accounts.accounting import base
from accounts.hold_hooks import integrations_in_use
from accounts.models import (
    AccountingConnection,
    AccountingPosting,
    AppConnection,
    AuditEvent,
    SandboxAccountingDocument,
    ThirdPartyApp,
)
from posbackoffice.errors import DomainError, NotAllowed
from retail import accounting_sources
from retail.services.sales import sale_take_payment
from tests.factories import member, owner_of
from tests.retail.builders import in_english
from tests.retail.builders import page_text as text
from tests.retail.report_factories import close_register, customer, make_shop, open_register, product, sell

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def shop(account):
    return make_shop(account)


@pytest.fixture
def trading(shop):
    """Two closed registers' days and two on-account sales (one paid later), nothing posted."""
    item = product(shop, sku="TEA", name="Tea", price=1200, rate_bp=2000)
    buyer = customer(shop, first_name="Jeanne", last_name="Dupont")
    for _day in range(2):
        session = open_register(shop, opening_float=5000)
        sell(shop, [(item, 1)])
        close_register(shop, session, counted={shop.cash.pk: 6190})  # 10 short
    session = open_register(shop)
    unpaid = sell(shop, [(item, 2)], payments=[], buyer=buyer, on_account=True)
    paid_later = sell(shop, [(item, 1)], payments=[], buyer=buyer, on_account=True)
    sale_take_payment(actor=shop.actor, account=shop.account, sale_id=paid_later.pk, payment_type_id=shop.cash.pk,
                      amount=paid_later.total)
    sell(shop, [(item, 1)])  # an ordinary sale: not an on-account one
    return {"unpaid": unpaid, "paid_later": paid_later, "open_session": session}


def state(account) -> tuple:
    return (list(AccountingConnection.objects.filter(account=account).values_list("tenant_id", flat=True)),
            AccountingPosting.objects.filter(account=account).count(),
            list(AppConnection.objects.filter(account=account, cancelled_at__isnull=True)
                 .values_list("app__slug", flat=True)),
            AuditEvent.objects.filter(account=account).count(), SandboxAccountingDocument.objects.count())


def test_posting_status_lists_unposted_closures_and_on_account_sales(account, trading):
    status = {kind["kind"]: kind for kind in integration_selectors.posting_status(account)}
    assert status["closure"]["count"] == 2
    assert status["on_account_sale"]["count"] == 2
    assert {item.object_id for item in status["on_account_sale"]["items"]} == {
        trading["unpaid"].pk, trading["paid_later"].pk}


def test_connect_post_now_and_disconnect(account, owner, trading):
    connection = services.accounting_connect(actor=owner, account=account)
    assert connection.adapter == "sandbox" and connection.organisation_name == "Boutique Test (sandbox)"

    counts = services.accounting_post_now(actor=owner, account=account)

    assert counts == {"closure": 2, "on_account_sale": 2}
    postings = AccountingPosting.objects.filter(account=account)
    assert postings.count() == 4 and all(p.external_id and p.posted_by == owner for p in postings)
    journals = SandboxAccountingDocument.objects.filter(kind="closure")
    for journal in journals:  # a manual journal balances: counted − expected − difference
        amounts = [line["amount"] for line in journal.payload["lines"]]
        assert sum(amounts) == 0 and 6190 in amounts and -6200 in amounts and 10 in amounts
    invoice = SandboxAccountingDocument.objects.get(reference=f"on_account_sale-{trading['unpaid'].pk}")
    assert invoice.payload["contact_name"] == "Jeanne Dupont" and invoice.payload["total"] == 2400
    with pytest.raises(DomainError, match="Everything is already posted"):
        services.accounting_post_now(actor=owner, account=account)
    actions = list(AuditEvent.objects.filter(account=account, action__startswith="integration.")
                   .values_list("action", flat=True).order_by("pk"))
    assert actions == ["integration.accounting_connected", "integration.accounting_posted"]

    services.accounting_disconnect(actor=owner, account=account)

    assert not AccountingConnection.objects.filter(account=account).exists()
    assert AccountingPosting.objects.filter(account=account).count() == 4  # what was posted stays posted
    assert AuditEvent.objects.filter(account=account, action="integration.accounting_disconnected").exists()


def test_a_new_closure_is_unposted_until_posted(account, owner, shop, trading):
    services.accounting_connect(actor=owner, account=account)
    services.accounting_post_now(actor=owner, account=account)
    close_register(shop, trading["open_session"], counted={})

    assert accounting_sources.closures_count(account) == 1
    assert services.accounting_post_now(actor=owner, account=account) == {"closure": 1}


class FailingAdapter(base.AccountingAdapter):
    name = "sandbox"

    def __init__(self, error):
        self.error = error

    def post(self, **kwargs):
        raise self.error


@pytest.mark.parametrize(("error", "message"), [
    (base.AccountingUnavailable(), "Xero could not be reached. Nothing was posted"),
    (base.AccountingRejected(), "Xero refused what we sent. Nothing was marked as posted"),
    (base.AccountingNotAuthorised(), "disconnect Xero and connect it again"),
])
def test_a_failed_post_says_so_and_changes_nothing(account, owner, trading, monkeypatch, error, message):
    services.accounting_connect(actor=owner, account=account)
    before = state(account)
    monkeypatch.setattr(services, "get_adapter", lambda name=None: FailingAdapter(error))

    with pytest.raises(DomainError, match=message):
        services.accounting_post_now(actor=owner, account=account)

    assert state(account) == before
    assert accounting_sources.closures_count(account) == 2


def test_refusals_change_nothing(account, owner):
    before = state(account)
    with pytest.raises(DomainError, match="Connect Xero before posting"):
        services.accounting_post_now(actor=owner, account=account)
    with pytest.raises(DomainError, match="Xero is not connected"):
        services.accounting_disconnect(actor=owner, account=account)
    assert state(account) == before
    services.accounting_connect(actor=owner, account=account)
    before = state(account)
    with pytest.raises(DomainError, match="already connected"):
        services.accounting_connect(actor=owner, account=account)
    with pytest.raises(DomainError, match="Everything is already posted"):
        services.accounting_post_now(actor=owner, account=account)
    assert state(account) == before


@pytest.mark.parametrize("preset", [perms.MANAGER, perms.CASHIER])
def test_roles_without_manage_integrations_are_refused(account, preset):
    actor = member(account, preset)
    before = state(account)
    app = ThirdPartyApp.objects.get(slug="loyaltyloop")
    for call in (lambda: services.accounting_connect(actor=actor, account=account),
                 lambda: services.app_connect(actor=actor, account=account, app_id=app.pk)):
        with pytest.raises(NotAllowed):
            call()
    assert state(account) == before


def test_an_admin_and_a_custom_role_with_the_permission_may(account):
    from tests.retail.builders import staff_with

    services.accounting_connect(actor=member(account, perms.ADMIN), account=account)
    services.accounting_disconnect(actor=staff_with(account, "manage_integrations"), account=account)


def test_apps_connect_and_cancel(account, owner):
    loyalty = ThirdPartyApp.objects.get(slug="loyaltyloop")
    connection = services.app_connect(actor=owner, account=account, app_id=loyalty.pk)
    with pytest.raises(DomainError, match="LoyaltyLoop is already connected"):
        services.app_connect(actor=owner, account=account, app_id=loyalty.pk)

    services.app_cancel(actor=owner, account=account, connection_id=connection.pk)

    connection.refresh_from_db()
    assert connection.cancelled_at is not None and connection.cancelled_by == owner
    again = services.app_connect(actor=owner, account=account, app_id=loyalty.pk)  # connected anew
    services.app_cancel(actor=owner, account=account, connection_id=again.pk)
    trail = AuditEvent.objects.filter(account=account, action__startswith="integration.app").order_by("pk")
    assert [(e.action, (e.after or e.before)["monthly_charge"]) for e in trail] == [
        ("integration.app_connected", 2900), ("integration.app_cancelled", 2900)] * 2
    with pytest.raises(DomainError, match="not connected"):
        services.app_cancel(actor=owner, account=account, connection_id=connection.pk)


def test_an_app_no_longer_offered_cannot_be_connected(account, owner):
    app = ThirdPartyApp.objects.get(slug="reviewboost")
    app.is_active = False
    app.save()
    with pytest.raises(DomainError, match="not offered"):
        services.app_connect(actor=owner, account=account, app_id=app.pk)


def test_integrations_in_use_for_the_plans_check(account, owner):
    assert integrations_in_use(account) == []
    services.accounting_connect(actor=owner, account=account)
    for slug in ("shiftplanner", "delivereasy"):
        services.app_connect(actor=owner, account=account, app_id=ThirdPartyApp.objects.get(slug=slug).pk)

    found = integrations_in_use(account)

    assert [(i.key, i.label) for i in found] == [("app:delivereasy", "DeliverEasy"),
                                                  ("app:shiftplanner", "ShiftPlanner"), ("xero", "Xero")]
    assert {i.manage_url for i in found} == {reverse("setup:integrations")}


# ---- pages ---------------------------------------------------------------------------------------

def test_the_page_connects_posts_in_place_and_cancels(client, account, owner, trading):
    client.force_login(in_english(owner))
    page = client.get(reverse("setup:integrations"))
    assert page.status_code == 200 and "Connect Xero" in text(page) and "LoyaltyLoop" in text(page)

    client.post(reverse("setup:accounting_connect"))
    page = text(client.get(reverse("setup:integrations")))
    assert "Boutique Test (sandbox)" in page and "2 not yet posted" in page

    posted = client.post(reverse("setup:accounting_post"), HTTP_HX_REQUEST="true")
    assert posted.status_code == 200
    assert "4 items posted to Xero" in text(posted) and "0 not yet posted" in text(posted)
    again = client.post(reverse("setup:accounting_post"), HTTP_HX_REQUEST="true")
    assert again.status_code == 422 and "Everything is already posted" in text(again)

    loyalty = ThirdPartyApp.objects.get(slug="loyaltyloop")
    client.post(reverse("setup:app_connect"), {"app": loyalty.pk})
    connection = AppConnection.objects.get(account=account)
    assert "€29.00" in text(client.get(reverse("setup:integrations")))
    cancelled = client.post(reverse("setup:app_cancel", args=[connection.pk]), HTTP_HX_REQUEST="true")
    assert cancelled.status_code == 200 and "its monthly charge stops" in text(cancelled)
    assert "No third-party app is connected" in text(cancelled)
    twice = client.post(reverse("setup:app_cancel", args=[connection.pk]), HTTP_HX_REQUEST="true")
    assert twice.status_code == 422 and "This app is not connected" in text(twice)


def test_another_accounts_ids_are_not_found(client, account, other_account):
    theirs = services.app_connect(actor=owner_of(other_account), account=other_account,
                                  app_id=ThirdPartyApp.objects.get(slug="loyaltyloop").pk)
    client.force_login(in_english(owner_of(account)))
    assert client.post(reverse("setup:app_cancel", args=[theirs.pk])).status_code == 404
    assert AppConnection.objects.filter(pk=theirs.pk).exists()
    refused = client.post(reverse("setup:app_connect"), {"app": "x"}, follow=True)
    assert "This app is not offered" in text(refused)
    assert not AppConnection.objects.filter(account=account).exists()


def test_a_role_without_the_permission_gets_the_refusal_page(client, account):
    client.force_login(member(account, perms.MANAGER))
    assert client.get(reverse("setup:integrations")).status_code == 403
    assert client.post(reverse("setup:accounting_connect")).status_code == 403
    assert not AccountingConnection.objects.filter(account=account).exists()


def test_a_forged_xero_callback_connects_nothing(client, account, owner):
    client.force_login(in_english(owner))
    response = client.get(reverse("setup:accounting_callback"), {"code": "abc", "state": "forged"}, follow=True)
    assert "was not for this request" in text(response)
    assert not AccountingConnection.objects.filter(account=account).exists()


# ---- the hold checklist's sections (billing renders them; rendered here as billing will) ----------

def checklist(client, user, language="en") -> str:
    """The shown sections of the hold checklist, rendered the way billing's page includes them."""
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from accounts.hold_hooks import CHECKLIST_SECTIONS
    from accounts.models import Membership

    request = RequestFactory().get("/setup/billing/hold/")
    request.user = user
    membership = Membership.objects.select_related("role", "account").get(user=user)
    request.account, request.permissions = membership.account, membership.role.granted()
    request.htmx = False
    with translation.override(language):
        return "".join(render_to_string(shown["template"], {"section": shown["context"]}, request=request)
                       for shown in CHECKLIST_SECTIONS.shown(request))


def test_the_checklist_shows_nothing_without_integrations(client, account, owner):
    assert checklist(client, owner).strip() == ""


def test_the_checklist_sections_with_post_now_and_cancel(client, account, owner, trading):
    services.accounting_connect(actor=owner, account=account)
    services.app_connect(actor=owner, account=account, app_id=ThirdPartyApp.objects.get(slug="delivereasy").pk)
    connection = AppConnection.objects.get(account=account)

    page = checklist(client, owner)

    assert 'data-checklist-section="accounting"' in page and 'data-checklist-section="apps"' in page
    assert "have been posted to Xero before putting your account on hold" in page
    assert f'hx-post="{reverse("setup:accounting_post")}"' in page
    assert "2 not yet posted" in page and "DeliverEasy" in page and "€39.00" in page
    assert f'hx-post="{reverse("setup:app_cancel", args=[connection.pk])}"' in page
    assert "their charges continue to be billed" in page


def test_the_checklist_in_french_uses_the_seeds_wording(client, account, owner, trading):
    services.accounting_connect(actor=owner, account=account)
    services.app_connect(actor=owner, account=account, app_id=ThirdPartyApp.objects.get(slug="delivereasy").pk)

    page = checklist(client, owner, "fr")

    assert "ont bien été enregistrées dans Xero avant de mettre votre compte en veille" in page
    assert "ne sont pas interrompus ni annulés" in page
    assert "Publier maintenant" in page and "39,00" in page


def test_connecting_through_xeros_consent_page(client, account, owner, monkeypatch, settings):
    """With ACCOUNTING_ADAPTER=xero: Connect sends the merchant to Xero with a signed state; the callback
    exchanges the code (recorded answers) and keeps the organisation and its tokens."""
    from accounts import integration_views
    from accounts.accounting.xero import XeroAdapter
    from tests.accounts.test_xero_adapter import RecordedXero

    stub = RecordedXero((200, "token.json"), (200, "connections.json"))
    xero = XeroAdapter(client_id="CLIENTID", client_secret="SECRET", pool_manager=stub)
    monkeypatch.setattr(integration_views, "get_adapter", lambda name=None: xero)
    monkeypatch.setattr(services, "get_adapter", lambda name=None: xero)
    client.force_login(in_english(owner))

    consent = client.post(reverse("setup:accounting_connect"))

    assert consent.status_code == 302 and consent["Location"].startswith("https://login.xero.com/")
    from urllib.parse import parse_qs, urlsplit
    state = parse_qs(urlsplit(consent["Location"]).query)["state"][0]
    back = client.get(reverse("setup:accounting_callback"), {"code": "the-code", "state": state}, follow=True)

    assert "Xero is connected to Boutique Test SARL" in text(back)
    connection = AccountingConnection.objects.get(account=account)
    assert (connection.adapter, connection.tenant_id) == ("xero", "70784a63-d24b-46a9-a4db-0e70a274b056")
    assert connection.refresh_token.startswith("a4f1") and connection.token_expires_at is not None
    assert "a4f1" not in str(AuditEvent.objects.filter(account=account).values_list("after", flat=True))


def test_consent_refused_on_xeros_page_connects_nothing(client, account, owner):
    client.force_login(in_english(owner))
    response = client.get(reverse("setup:accounting_callback"), {"error": "access_denied", "state": "x"}, follow=True)
    assert "the access was not granted on Xero's page" in text(response)
    assert not AccountingConnection.objects.filter(account=account).exists()
