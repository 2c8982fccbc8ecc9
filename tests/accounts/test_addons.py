"""Add-ons live with the account: the Owner or an Admin switches one on or off (audited), every app
reads the switch the same way, and a page of an add-on that is off says so instead of showing the
feature."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts import permissions as perms
from accounts import services
from accounts.addons import SUBSCRIPTIONS, account_addons, account_has_addon
from accounts.models import Account, AuditEvent
from posbackoffice.errors import DomainError, NotAllowed
from tests.factories import member, owner_of, with_addons
from tests.retail.builders import page_text as text
from tests.test_pages_are_csp_clean import assert_csp_clean

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


def addon_state(account) -> tuple:
    stored = Account.objects.get(pk=account.pk)
    return stored.addons, AuditEvent.objects.filter(account=account).count()


@pytest.mark.parametrize("preset", [perms.OWNER, perms.ADMIN])
def test_the_owner_or_an_admin_switches_an_add_on_on_and_off(account, preset):
    actor = owner_of(account) if preset == perms.OWNER else member(account, preset)
    assert not account_has_addon(account, SUBSCRIPTIONS)

    services.account_addon_enable(actor=actor, account=account, code=SUBSCRIPTIONS)

    account = Account.objects.get(pk=account.pk)
    assert account_has_addon(account, SUBSCRIPTIONS) and account_addons(account) == {SUBSCRIPTIONS}

    services.account_addon_disable(actor=actor, account=account, code=SUBSCRIPTIONS)

    assert not account_has_addon(Account.objects.get(pk=account.pk), SUBSCRIPTIONS)
    trail = AuditEvent.objects.filter(account=account, action__startswith="account.addon").order_by("pk")
    assert [(e.action, e.actor, e.before, e.after) for e in trail] == [
        ("account.addon_enabled", actor, {"addons": []}, {"addons": [SUBSCRIPTIONS]}),
        ("account.addon_disabled", actor, {"addons": [SUBSCRIPTIONS]}, {"addons": []}),
    ]


@pytest.mark.parametrize("preset", [perms.MANAGER, perms.CASHIER])
def test_other_roles_cannot_switch_add_ons(account, preset):
    before = addon_state(account)
    with pytest.raises(NotAllowed, match="Only the Owner and Admin roles can switch add-ons"):
        services.account_addon_enable(actor=member(account, preset), account=account, code=SUBSCRIPTIONS)
    assert addon_state(account) == before


def test_someone_of_another_account_cannot_switch_them(account, other_account):
    before = addon_state(account)
    with pytest.raises(NotAllowed):
        services.account_addon_enable(actor=owner_of(other_account), account=account, code=SUBSCRIPTIONS)
    assert addon_state(account) == before


@pytest.mark.parametrize("switch,code,message", [
    ("enable", SUBSCRIPTIONS, "The Subscriptions add-on is already on."),
    ("disable", "unknown", "Unknown add-on."),
    ("enable", "unknown", "Unknown add-on."),
])
def test_switching_to_what_already_is_or_an_unknown_add_on_is_refused(account, switch, code, message):
    with_addons(account, SUBSCRIPTIONS)
    before = addon_state(account)
    with pytest.raises(DomainError) as refused:
        getattr(services, f"account_addon_{switch}")(actor=owner_of(account), account=account, code=code)
    assert refused.value.message == message
    assert addon_state(account) == before


def test_switching_off_what_is_off_is_refused(account):
    before = addon_state(account)
    with pytest.raises(DomainError, match="The Subscriptions add-on is already off."):
        services.account_addon_disable(actor=owner_of(account), account=account, code=SUBSCRIPTIONS)
    assert addon_state(account) == before


def test_asking_for_an_add_on_missing_from_the_catalogue_is_a_mistake(account):
    with pytest.raises(ValueError):
        account_has_addon(account, "subscription")


def test_a_page_of_an_add_on_that_is_off_says_so(client, account):
    client.force_login(member(account, perms.ADMIN, language="en"))

    response = client.get(reverse("subscriptions:index"))

    assert response.status_code == 403
    page = text(response)
    assert "Subscriptions is an add-on that is not switched on for this account." in page
    assert "Add-ons are switched on in Setup › Billing." in page and reverse("billing:setup") in page
    assert "Plans, subscribed customers and recurring sales." not in page  # not the feature
    assert_csp_clean(response)


def test_staff_who_cannot_switch_it_are_told_to_ask(client, account):
    client.force_login(member(account, perms.MANAGER, language="en"))  # may manage subscriptions, not billing
    response = client.get(reverse("subscriptions:index"))
    assert response.status_code == 403 and "Ask the owner or an admin of the shop if you need it." in text(response)
    assert reverse("billing:setup") not in text(response)


def test_an_htmx_request_to_an_add_on_that_is_off_reloads_its_page(client, account):
    client.force_login(member(account, perms.ADMIN))
    response = client.get(reverse("subscriptions:index"), headers={"HX-Request": "true"})
    assert response.status_code == 403 and response["HX-Refresh"] == "true"


def test_with_the_add_on_on_the_role_decides(client, account):
    with_addons(account, SUBSCRIPTIONS)
    client.force_login(member(account, perms.MANAGER, language="en"))
    assert client.get(reverse("subscriptions:index"), follow=True).status_code == 200  # to Manage subscriptions
    client.force_login(member(account, perms.CASHIER, language="en"))
    assert client.get(reverse("subscriptions:index")).status_code == 403  # the role does not grant it
