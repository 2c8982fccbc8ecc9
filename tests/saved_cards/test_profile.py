"""Setup › General's switch and terms, and a customer's "Saved payment methods" as staff use them: the
section, + Add with consent, Set as default and Delete applied by "Save changes", the Customers filter,
and every refusal (feature off, permission, sixth card, consent, another account's ids) changing nothing."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from accounts import permissions as perms
from accounts.models import AuditEvent
from accounts.services import staff_role_update
from retail.models import Customer
from saved_cards.models import SavedCard, SavedCardSettings
from tests.factories import member, owner_of, role
from tests.retail.builders import in_english, staff_with
from tests.retail.builders import page_text as text
from tests.retail.factories import CustomerFactory
from tests.saved_cards.builders import (
    DECLINES_WHEN_CHARGED,
    MASTERCARD,
    card_row,
    cards_state,
    confirm_in_browser,
    enable,
    save_card,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(account):
    return CustomerFactory(account=account, first_name="Camille", last_name="Martin", email="camille@exemple.fr")


@pytest.fixture
def staff(client, account):
    """Log in as a member of `account` with a preset role, in English."""
    def _login(preset=perms.OWNER):
        user = owner_of(account) if preset == perms.OWNER else member(account, preset)
        client.force_login(in_english(user))
        return client

    return _login


def profile(client, customer):
    return client.get(reverse("retail:customer_detail", args=[customer.pk]))


def save_changes(client, customer, *, default=None, delete=(), follow=True):
    """"Save changes" under the cards, with what was marked: Set as default, Delete saved payment method."""
    data = {"delete": [str(pk) for pk in delete]}
    if default is not None:
        data["default"] = str(default)
    return client.post(reverse("saved_cards:save_changes", args=[customer.pk]), data, follow=follow)


# ---- Setup › General ------------------------------------------------------------------------------

def test_the_owner_turns_the_feature_on_through_the_terms(staff, account):
    client = staff(perms.OWNER)
    page = text(client.get(reverse("setup:general")))
    assert "Saved payment method" in page and "Enable/Disable the feature" in page

    response = client.post(reverse("saved_cards:feature"), {"enabled": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("saved_cards:terms")
    assert not SavedCardSettings.objects.filter(enabled=True).exists()  # not before the terms are accepted

    terms = text(client.get(reverse("saved_cards:terms")))
    assert "Ask the customer before saving their card" in terms and "Accept & edit permissions" in terms

    moment = datetime.datetime(2026, 5, 4, 9, 15, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        response = client.post(reverse("saved_cards:terms"), {"accept": "1"})
    assert response["Location"] == reverse("saved_cards:enabled")
    settings = SavedCardSettings.objects.get(account=account)
    assert settings.enabled and settings.terms_accepted_by == owner_of(account)
    assert settings.terms_accepted_at == moment

    done = text(client.get(reverse("saved_cards:enabled")))
    assert "Go to staff roles" in done and "Edit later" in done
    assert f'href="{reverse("setup:staff_roles")}"' in done and f'href="{reverse("setup:general")}"' in done
    assert "Terms of use accepted by" in text(client.get(reverse("setup:general")))


def test_unticking_turns_it_off(staff, account):
    enable(account)
    client = staff(perms.ADMIN)
    response = client.post(reverse("saved_cards:feature"), {})
    assert response["Location"] == reverse("setup:general")
    assert not SavedCardSettings.objects.get(account=account).enabled


def test_a_custom_role_with_general_settings_does_not_see_or_change_the_switch(client, account):
    client.force_login(staff_with(account, "manage_general_settings"))
    assert "Enable/Disable the feature" not in text(client.get(reverse("setup:general")))
    before = cards_state(account)

    for url, data in ((reverse("saved_cards:feature"), {"enabled": "on"}),
                      (reverse("saved_cards:terms"), {"accept": "1"})):
        response = client.post(url, data)
        assert response.status_code == 403 and "Only the Owner and Admin roles" in text(response)

    assert cards_state(account) == before


def test_the_terms_are_not_accepted_without_the_form(staff, account):
    client = staff(perms.OWNER)
    before = cards_state(account)
    response = client.post(reverse("saved_cards:terms"), {})
    assert response.status_code == 422 and "Accept the terms of use" in text(response)
    assert cards_state(account) == before


# ---- the profile section --------------------------------------------------------------------------

def test_nothing_of_saved_cards_shows_while_the_feature_is_off(staff, account, customer):
    card_row(customer, is_default=True)  # saved before the feature was turned off
    client = staff(perms.OWNER)

    page = text(profile(client, customer))
    listing = text(client.get(reverse("retail:customers")))

    assert "Saved payment methods" not in page and "•••• 4242" not in page
    assert "Card expiring" not in listing


@pytest.mark.parametrize("url_name,method", [
    ("saved_cards:add", "get"), ("saved_cards:setup_start", "post"), ("saved_cards:invite_create", "post"),
    ("saved_cards:update_link", "post"),
])
def test_every_action_refuses_while_the_feature_is_off(staff, account, customer, url_name, method):
    client = staff(perms.OWNER)
    before = cards_state(account)

    response = getattr(client, method)(reverse(url_name, args=[customer.pk]), {"consent": "1"}, follow=True)

    assert "Saved payment methods are turned off for this shop" in text(response)
    assert cards_state(account) == before


def test_card_actions_refuse_while_the_feature_is_off(staff, account, customer):
    card = card_row(customer, is_default=True)
    other = card_row(customer)
    client = staff(perms.OWNER)
    before = cards_state(account)

    response = save_changes(client, customer, default=other.pk, delete=[card.pk])

    assert "Saved payment methods are turned off for this shop" in text(response)

    assert cards_state(account) == before


def test_the_section_lists_cards_default_first_and_expired_last(staff, account, customer):
    enable(account)
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, tzinfo=datetime.UTC), tick=False):
        first = save_card(customer, expiry="12/40")
        card_row(customer, last4="0005", exp=(1, 2026), created_at=first.created_at + datetime.timedelta(hours=2))
        newer = save_card(customer, number=MASTERCARD, expiry="03/31")

        page = text(profile(staff(perms.OWNER), customer))

    section = page[page.index("Saved payment methods"):page.index("Latest sales")]
    assert section.index("Visa •••• 4242") < section.index("Mastercard •••• 4444") < section.index("•••• 0005")
    assert "Default" in section and "Expired" in section and "03/31" in section
    assert "Invite customer to add their own card" in section and "E-mail a card-update link" in section
    assert newer.added_by.name in section


def test_a_manager_without_the_permissions_sees_the_cards_but_no_buttons(staff, account, customer):
    enable(account)
    save_card(customer)

    section = text(profile(staff(perms.MANAGER), customer))

    assert "Visa •••• 4242" in section
    assert "+ Add" not in section and "Set as default" not in section and "Invite customer" not in section


@pytest.mark.parametrize("preset,allowed", [(perms.OWNER, True), (perms.ADMIN, True), (perms.MANAGER, False),
                                            (perms.CASHIER, False)])
def test_adding_needs_the_add_permission(staff, account, customer, preset, allowed):
    enable(account)
    client = staff(preset)
    before = cards_state(account)

    page = client.get(reverse("saved_cards:add", args=[customer.pk]))
    started = client.post(reverse("saved_cards:setup_start", args=[customer.pk]), {"consent": "1"})

    if allowed:
        assert page.status_code == 200 and started.status_code == 200
        assert "Add card and save" in text(page) and 'data-driver="sandbox"' in text(page)
    else:
        assert page.status_code == started.status_code == 403
        assert cards_state(account) == before


def test_a_role_given_the_permissions_can_add_and_edit(client, account, customer):
    enable(account)
    staff_role_update(actor=owner_of(account), account=account, role_id=role(account, perms.MANAGER).pk,
                      name="Manager", permissions=sorted(role(account, perms.MANAGER).granted()
                                                         | {"add_saved_payment_method", "edit_saved_payment_method"}))
    client.force_login(in_english(member(account, perms.MANAGER)))

    assert client.get(reverse("saved_cards:add", args=[customer.pk])).status_code == 200
    card = save_card(customer)
    assert "Set as default" not in text(profile(client, customer))  # the only card is the default
    assert "Delete" in text(profile(client, customer)) and card.is_default


def test_add_card_and_save_through_the_json_endpoints(staff, account, customer):
    enable(account)
    client = staff(perms.OWNER)

    started = client.post(reverse("saved_cards:setup_start", args=[customer.pk]), {"consent": "1"}).json()
    assert started["status"] == "ready" and started["client_secret"]
    confirm_in_browser(started["client_secret"])
    finished = client.post(started["finish_url"])

    assert finished.json() == {"status": "saved", "redirect": reverse("retail:customer_detail", args=[customer.pk])}
    card = SavedCard.objects.get(customer=customer)
    assert card.source == SavedCard.Source.PROFILE and card.added_by == owner_of(account)
    assert "Visa •••• 4242 saved for Camille Martin." in text(profile(client, customer))


def test_consent_unticked_is_refused_and_nothing_changes(staff, account, customer):
    enable(account)
    client = staff(perms.OWNER)
    before = cards_state(account)

    response = client.post(reverse("saved_cards:setup_start", args=[customer.pk]), {})

    assert response.status_code == 422
    assert response.json()["message"] == "Tick the box to confirm the customer authorised saving this card."
    assert cards_state(account) == before


def test_a_sixth_card_is_refused_with_a_clear_message(staff, account, customer):
    enable(account)
    for index in range(5):
        card_row(customer, is_default=index == 0)
    client = staff(perms.OWNER)
    before = cards_state(account)

    started = client.post(reverse("saved_cards:setup_start", args=[customer.pk]), {"consent": "1"})
    page = client.get(reverse("saved_cards:add", args=[customer.pk]), follow=True)

    message = "This customer already has 5 saved cards, the most a profile can keep. Delete one before adding another."
    assert started.status_code == 422 and started.json()["message"] == message
    assert message in text(page) and "+ Add" not in text(page)
    assert cards_state(account) == before


def test_another_accounts_customer_card_or_setup_is_not_found(client, account, customer, other_account):
    enable(account)
    enable(other_account)
    card = card_row(customer, is_default=True)
    client.force_login(owner_of(account))
    started = client.post(reverse("saved_cards:setup_start", args=[customer.pk]), {"consent": "1"}).json()
    client.force_login(owner_of(other_account))
    other_customer = CustomerFactory(account=other_account)
    before = cards_state(account)

    responses = [
        client.get(reverse("saved_cards:add", args=[customer.pk])),
        client.post(reverse("saved_cards:setup_start", args=[customer.pk]), {"consent": "1"}),
        client.post(started["finish_url"]),
        save_changes(client, customer, default=card.pk, follow=False),
        save_changes(client, other_customer, delete=[card.pk], follow=False),  # own customer, not the card
        client.post(reverse("saved_cards:invite_create", args=[customer.pk])),
    ]

    assert [response.status_code for response in responses] == [404] * len(responses)
    assert cards_state(account) == before


def test_set_as_default_and_delete_are_marked_then_saved_together(staff, account, customer):
    enable(account)
    first = save_card(customer)
    second = save_card(customer, number=MASTERCARD)
    third = save_card(customer, number=DECLINES_WHEN_CHARGED)
    client = staff(perms.OWNER)
    section = profile(client, customer).content.decode()
    assert f'name="default" value="{second.pk}"' in section and 'name="delete"' in section
    assert f'name="default" value="{first.pk}"' not in section  # already the default
    assert "Delete saved payment method" in section and "Save changes" in section
    before = cards_state(account)
    assert "Nothing changed." in text(save_changes(client, customer, default=first.pk))
    assert cards_state(account) == before

    response = save_changes(client, customer, default=second.pk, delete=[first.pk, third.pk])

    page = text(response)
    assert "Mastercard •••• 4444 is now the default card." in page
    assert "Visa •••• 4242 deleted." in page and "Visa •••• 0341 deleted." in page
    assert list(SavedCard.objects.all()) == [second] and second in SavedCard.objects.filter(is_default=True)
    actions = list(AuditEvent.objects.filter(account=account, action__startswith="saved_card.").order_by("pk")
                   .values_list("action", flat=True))
    assert actions[-3:] == ["saved_card.default_set", "saved_card.deleted", "saved_card.deleted"]


def test_deleting_the_default_card_makes_the_newest_valid_one_the_default(staff, account, customer):
    enable(account)
    default = save_card(customer)
    newer = save_card(customer, number=MASTERCARD)
    card_row(customer, last4="0005", exp=(1, 2020))  # expired, even newer: never the default
    client = staff(perms.OWNER)

    page = text(save_changes(client, customer, delete=[default.pk]))

    assert "Visa •••• 4242 deleted." in page and "Mastercard •••• 4444 is now the default card." in page
    assert SavedCard.objects.get(is_default=True) == newer


def test_a_protected_card_says_why_and_nothing_is_saved(staff, account, customer):
    enable(account)
    card = save_card(customer)
    other = save_card(customer, number=MASTERCARD)
    Customer.objects.filter(pk=customer.pk).update(balance=1250)
    client = staff(perms.OWNER)
    before = cards_state(account)

    section = text(profile(client, customer))
    response = save_changes(client, customer, delete=[card.pk, other.pk])

    reason = "This is the default card of a customer who owes €12.50 on account."
    assert reason in section  # told in the Delete confirmation, before anything is marked
    assert reason in text(response)
    assert cards_state(account) == before

    # Once another card is the default, in the same save, the first one can go.
    page = text(save_changes(client, customer, default=other.pk, delete=[card.pk]))
    assert "Visa •••• 4242 deleted." in page and list(SavedCard.objects.all()) == [other]


@pytest.mark.parametrize("data", [
    {"default": "x1"}, {"delete": ["1²"]}, {"default": "999999"}, {"delete": ["999999"]},
])
def test_a_tampered_or_unknown_card_changes_nothing(staff, account, customer, data):
    enable(account)
    card = save_card(customer)
    save_card(customer, number=MASTERCARD)
    client = staff(perms.OWNER)
    before = cards_state(account)

    response = client.post(reverse("saved_cards:save_changes", args=[customer.pk]), data, follow=True)

    assert response.status_code == 404 or "This saved card does not exist." in text(response)
    assert cards_state(account) == before and SavedCard.objects.get(is_default=True) == card


def test_an_expired_card_or_one_marked_for_deletion_cannot_become_the_default(staff, account, customer):
    enable(account)
    save_card(customer)
    other = save_card(customer, number=MASTERCARD)
    expired = card_row(customer, last4="0005", exp=(1, 2020))
    client = staff(perms.OWNER)
    before = cards_state(account)

    assert "An expired card cannot be the default card." in text(save_changes(client, customer, default=expired.pk))
    assert "A card chosen to be deleted cannot also be the default card." in text(
        save_changes(client, customer, default=other.pk, delete=[other.pk]))
    assert cards_state(account) == before


def test_editing_needs_the_edit_permission(client, account, customer):
    enable(account)
    card = card_row(customer)
    card_row(customer, is_default=True)
    client.force_login(staff_with(account, "manage_customers", "add_saved_payment_method"))
    before = cards_state(account)

    assert save_changes(client, customer, default=card.pk, delete=[card.pk], follow=False).status_code == 403
    section = profile(client, customer).content.decode()
    assert 'name="delete"' not in section and "Save changes" not in section
    assert cards_state(account) == before


# ---- the Customers list filter --------------------------------------------------------------------

def test_the_customers_list_filters_customers_whose_default_card_is_expiring(staff, account):
    enable(account)
    soon = CustomerFactory(account=account, first_name="Bientôt", last_name="Expirée")
    later = CustomerFactory(account=account, first_name="Plus", last_name="Tard")
    card_row(soon, exp=(7, 2026), is_default=True)
    card_row(later, exp=(12, 2030), is_default=True)
    client = staff(perms.OWNER)

    with time_machine.travel(datetime.datetime(2026, 7, 10, 10, tzinfo=datetime.UTC), tick=False):
        listing = text(client.get(reverse("retail:customers"), {"card_expiring": "on"}))
        export = client.get(reverse("retail:customers_export"), {"card_expiring": "on"})
        body = b"".join(export.streaming_content).decode("utf-8-sig")  # the rows are read as they stream

    assert "Card expiring (default card, within 30 days)" in listing
    assert "Bientôt" in listing and "Plus" not in listing
    assert "Bientôt" in body and "Plus" not in body
