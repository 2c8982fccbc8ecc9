"""Saved cards through their services and the sandbox processor: the switch and its terms, the processor
customer made once, the limit of five, the order of the list, the default card, deletion and the cards
something relies on, expiry."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from accounts import permissions as perms
from accounts.models import AuditEvent
from payments.gateway import sandbox
from payments.gateway.errors import ProcessorUnavailable
from payments.sandbox.models import SandboxCustomer, SandboxPaymentMethod
from posbackoffice import jobs
from posbackoffice.errors import DomainError, NotAllowed
from retail.models import Customer
from saved_cards import protection, selectors, services, upkeep
from saved_cards.models import CardCustomer, CardDetachment, SavedCard
from tests.factories import member, owner_of
from tests.retail.builders import staff_with
from tests.retail.factories import CustomerFactory
from tests.saved_cards.builders import (
    MASTERCARD,
    NEEDS_AUTHENTICATION,
    card_row,
    cards_state,
    confirm_in_browser,
    enable,
    luhn_number,
    sandbox_cards,
    save_card,
)

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture
def customer(account):
    return CustomerFactory(account=account, first_name="Camille", last_name="Martin", email="camille@exemple.fr")


@pytest.fixture
def shop(account):
    enable(account)
    return account


# ---- the switch -----------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", [perms.OWNER, perms.ADMIN])
def test_owner_or_admin_turns_the_feature_on_and_the_acceptance_is_kept(account, preset):
    actor = owner_of(account) if preset == perms.OWNER else member(account, perms.ADMIN)
    moment = datetime.datetime(2026, 3, 2, 10, 30, tzinfo=PARIS)

    with time_machine.travel(moment, tick=False):
        settings = services.saved_cards_enable(actor=actor, account=account, accept_terms=True)

    assert settings.enabled and selectors.feature_enabled(account)
    assert (settings.terms_accepted_by, settings.terms_accepted_at, settings.terms_version) == (
        actor, moment, services.TERMS_VERSION)
    event = AuditEvent.objects.get(account=account, action="saved_cards.enabled")
    assert event.actor == actor and event.after["terms_accepted_by"] == actor.pk


@pytest.mark.parametrize("who", ["manager", "custom role with general settings"])
def test_other_roles_cannot_turn_it_on(account, who):
    actor = (member(account, perms.MANAGER) if who == "manager"
             else staff_with(account, "manage_general_settings", "manage_customers"))
    before = cards_state(account)

    with pytest.raises(NotAllowed):
        services.saved_cards_enable(actor=actor, account=account, accept_terms=True)

    assert cards_state(account) == before and not selectors.feature_enabled(account)


def test_the_terms_must_be_accepted(account, owner):
    before = cards_state(account)
    with pytest.raises(DomainError, match="Accept the terms"):
        services.saved_cards_enable(actor=owner, account=account, accept_terms=False)
    assert cards_state(account) == before


def test_turning_it_off_keeps_the_cards_but_refuses_every_action(shop, customer, owner):
    card = save_card(customer)
    services.saved_cards_disable(actor=owner, account=shop)
    before = cards_state(shop)

    for action in (
        lambda: services.customer_cards_update(actor=owner, account=shop, customer_id=customer.pk,
                                               delete_card_ids=[card.pk]),
        lambda: services.card_setup_start(actor=owner, account=shop, customer_id=customer.pk, consent=True,
                                          source=SavedCard.Source.PROFILE),
    ):
        with pytest.raises(services.FeatureOff):
            action()

    assert cards_state(shop) == before
    assert SavedCard.objects.filter(pk=card.pk).exists()


# ---- the processor customer -----------------------------------------------------------------------

def test_the_processor_customer_is_made_once(shop, customer):
    first = services.card_customer_ensure(account=shop, customer_id=customer.pk)
    again = services.card_customer_ensure(account=shop, customer_id=customer.pk)

    assert first == again
    link = CardCustomer.objects.get(customer=customer)
    assert link.processor_customer_id == first
    processor_customer = SandboxCustomer.objects.get(pk=first)
    assert (processor_customer.email, processor_customer.name) == ("camille@exemple.fr", "Camille Martin")


def test_a_lost_answer_from_the_processor_never_makes_a_second_customer(shop, customer):
    with sandbox.faults("after", operation="create_customer"), pytest.raises(ProcessorUnavailable):
        services.card_customer_ensure(account=shop, customer_id=customer.pk)
    assert CardCustomer.objects.get(customer=customer).processor_customer_id == ""

    made = services.card_customer_ensure(account=shop, customer_id=customer.pk)

    assert SandboxCustomer.objects.count() == 1 and SandboxCustomer.objects.get().pk == made


# ---- saving ---------------------------------------------------------------------------------------

def test_a_saved_card_keeps_only_ids_brand_last4_expiry_and_who_added_it(shop, customer):
    manager = member(shop, perms.MANAGER)
    moment = datetime.datetime(2026, 3, 2, 11, tzinfo=PARIS)

    with time_machine.travel(moment, tick=False):
        card = save_card(customer, number=MASTERCARD, expiry="04/29", actor=manager)

    assert (card.brand, card.last4, card.exp_month, card.exp_year, card.expires_on) == (
        "mastercard", "4444", 4, 2029, datetime.date(2029, 4, 30))
    assert (card.added_by, card.created_at, card.source, card.is_default) == (
        manager, moment, SavedCard.Source.PROFILE, True)
    assert card.fingerprint and card.payment_method_id.startswith("pm_sbx_")
    assert sandbox_cards(card.processor_customer_id) == [card.payment_method_id]
    assert str(card) == "Mastercard •••• 4444"


def test_a_card_needing_authentication_is_saved_once_confirmed(shop, customer):
    card = save_card(customer, number=NEEDS_AUTHENTICATION)
    assert card.last4 == "3155"


def test_a_sixth_card_is_refused_and_nothing_changes(shop, customer, owner):
    for index in range(5):
        save_card(customer, number=luhn_number(f"41{index}"))
    assert SavedCard.objects.filter(customer=customer).count() == 5
    before = cards_state(shop)

    with pytest.raises(DomainError, match="already has 5 saved cards"):
        services.card_setup_start(actor=owner, account=shop, customer_id=customer.pk, consent=True,
                                  source=SavedCard.Source.PROFILE)

    assert cards_state(shop) == before


def test_a_sixth_card_confirmed_meanwhile_is_refused_and_detached(shop, customer, owner,
                                                                 django_capture_on_commit_callbacks):
    started = services.card_setup_start(actor=owner, account=shop, customer_id=customer.pk, consent=True,
                                        source=SavedCard.Source.PROFILE)
    for index in range(5):
        card_row(customer, is_default=index == 0)
    method = confirm_in_browser(started.client_secret, MASTERCARD)

    with django_capture_on_commit_callbacks(execute=True), \
            pytest.raises(DomainError, match="already has 5 saved cards"):
        services.card_setup_finish(account=shop, setup_id=started.setup.pk)

    assert SavedCard.objects.filter(customer=customer).count() == 5
    assert SandboxPaymentMethod.objects.get(pk=method).customer_id is None  # detached again
    assert AuditEvent.objects.filter(account=shop, action="saved_card.not_kept").count() == 1


def test_consent_is_required(shop, customer, owner):
    before = cards_state(shop)
    with pytest.raises(DomainError, match="authorised saving this card"):
        services.card_setup_start(actor=owner, account=shop, customer_id=customer.pk, consent=False,
                                  source=SavedCard.Source.PROFILE)
    assert cards_state(shop) == before


def test_the_same_card_saved_again_replaces_the_first(shop, customer, django_capture_on_commit_callbacks):
    first = save_card(customer, expiry="01/30")
    second = save_card(customer, number=MASTERCARD)
    with django_capture_on_commit_callbacks(execute=True):
        again = save_card(customer, expiry="06/33")  # the Visa, reissued with a new expiry

    cards = list(SavedCard.objects.filter(customer=customer))
    assert sorted(card.pk for card in cards) == sorted([second.pk, again.pk])
    assert (again.exp_month, again.exp_year, again.is_default) == (6, 2033, True)  # it was the default
    assert SandboxPaymentMethod.objects.get(pk=first.payment_method_id).customer_id is None


def test_finishing_a_setup_twice_records_one_card(shop, customer, owner):
    started = services.card_setup_start(actor=owner, account=shop, customer_id=customer.pk, consent=True,
                                        source=SavedCard.Source.PROFILE)
    confirm_in_browser(started.client_secret)

    first = services.card_setup_finish(account=shop, setup_id=started.setup.pk)
    again = services.card_setup_finish(account=shop, setup_id=started.setup.pk)

    assert first == again and SavedCard.objects.count() == 1


def test_an_unconfirmed_setup_records_nothing(shop, customer, owner):
    started = services.card_setup_start(actor=owner, account=shop, customer_id=customer.pk, consent=True,
                                        source=SavedCard.Source.PROFILE)
    with pytest.raises(DomainError, match="not confirmed yet"):
        services.card_setup_finish(account=shop, setup_id=started.setup.pk)
    assert not SavedCard.objects.exists()


def test_another_accounts_setup_is_not_found(shop, customer, owner, other_account):
    started = services.card_setup_start(actor=owner, account=shop, customer_id=customer.pk, consent=True,
                                        source=SavedCard.Source.PROFILE)
    confirm_in_browser(started.client_secret)
    enable(other_account)
    with pytest.raises(DomainError, match="does not exist"):
        services.card_setup_finish(account=other_account, setup_id=started.setup.pk)
    assert not SavedCard.objects.exists()


# ---- the list's order -----------------------------------------------------------------------------

def test_default_first_then_newest_to_oldest_and_expired_last(shop, customer):
    day = datetime.datetime(2026, 3, 1, 10, tzinfo=PARIS)
    oldest = card_row(customer, last4="1111", created_at=day)
    default = card_row(customer, last4="2222", created_at=day + datetime.timedelta(days=1), is_default=True)
    expired = card_row(customer, last4="3333", created_at=day + datetime.timedelta(days=2), exp=(1, 2026))
    newest = card_row(customer, last4="4444", created_at=day + datetime.timedelta(days=3))

    cards = selectors.customer_cards(shop, customer, datetime.date(2026, 3, 10))

    assert [card.last4 for card in cards] == ["2222", "4444", "1111", "3333"]
    assert [card.expired for card in cards] == [False, False, False, True]
    usable = selectors.usable_cards(shop, customer, datetime.date(2026, 3, 10))
    assert [card.pk for card in usable] == [default.pk, newest.pk, oldest.pk]
    assert expired.pk not in {card.pk for card in usable}


# ---- the default card -----------------------------------------------------------------------------

def test_the_first_card_is_the_default_and_another_can_be_made_default(shop, customer, owner):
    first = save_card(customer)
    second = save_card(customer, number=MASTERCARD)
    assert (first.is_default, second.is_default) == (True, False)

    changes = services.customer_cards_update(actor=owner, account=shop, customer_id=customer.pk,
                                             default_card_id=second.pk)

    assert (changes.default, changes.deleted, changes.promoted) == (second, [], None)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    event = AuditEvent.objects.get(action="saved_card.default_set")
    assert (event.before, event.after) == ({"default": first.pk}, {"default": second.pk})


def test_an_expired_card_cannot_be_the_default(shop, customer, owner):
    card_row(customer, is_default=True)
    expired = card_row(customer, exp=(1, 2020))
    before = cards_state(shop)
    with pytest.raises(DomainError, match="expired card cannot"):
        services.customer_cards_update(actor=owner, account=shop, customer_id=customer.pk,
                                       default_card_id=expired.pk)
    assert cards_state(shop) == before


def test_another_accounts_card_is_not_found(shop, customer, other_account):
    card = card_row(customer, is_default=True)
    enable(other_account)
    before = cards_state(shop)
    for change in ({"default_card_id": card.pk}, {"delete_card_ids": [card.pk]}):
        with pytest.raises(DomainError, match="does not exist"):
            services.customer_cards_update(actor=owner_of(other_account), account=other_account,
                                           customer_id=customer.pk, **change)
    assert cards_state(shop) == before


# ---- deleting, protected cards --------------------------------------------------------------------

def test_deleting_detaches_the_card_and_the_newest_valid_card_becomes_the_default(
        shop, customer, owner, django_capture_on_commit_callbacks):
    default = save_card(customer)
    older = save_card(customer, number=MASTERCARD)
    newer = save_card(customer, number=luhn_number("4111"))
    card_row(customer, exp=(1, 2020), created_at=newer.created_at + datetime.timedelta(seconds=1))  # expired

    default_pk = default.pk
    with django_capture_on_commit_callbacks(execute=True):
        changes = services.customer_cards_update(actor=owner, account=shop, customer_id=customer.pk,
                                                 delete_card_ids=[default.pk])

    assert not SavedCard.objects.filter(pk=default_pk).exists()
    assert SandboxPaymentMethod.objects.get(pk=default.payment_method_id).customer_id is None
    newer.refresh_from_db()
    older.refresh_from_db()
    assert (newer.is_default, older.is_default) == (True, False) and changes.promoted == newer
    event = AuditEvent.objects.get(action="saved_card.deleted")
    assert event.before["last4"] == "4242" and event.after["card"] == default_pk
    promoted = AuditEvent.objects.get(action="saved_card.default_set")
    assert (promoted.before, promoted.after) == ({"default": None}, {"default": newer.pk})


def test_the_default_card_of_a_customer_who_owes_money_is_protected(shop, customer, owner):
    default = save_card(customer)
    other = save_card(customer, number=MASTERCARD)
    Customer.objects.filter(pk=customer.pk).update(balance=4500)
    before = cards_state(shop)

    with pytest.raises(DomainError) as refused:
        services.customer_cards_update(actor=owner, account=shop, customer_id=customer.pk,
                                       delete_card_ids=[other.pk, default.pk])

    assert "owes €45.00 on account" in refused.value.message or "45,00" in refused.value.message
    assert "Set another card as the default" in refused.value.message
    assert cards_state(shop) == before
    # All or nothing: the other card, which could go alone, stayed. Once another card is the default (in
    # the same save), this one can go too.
    services.customer_cards_update(actor=owner, account=shop, customer_id=customer.pk, default_card_id=other.pk,
                                   delete_card_ids=[default.pk])
    assert list(SavedCard.objects.filter(customer=customer)) == [SavedCard.objects.get(pk=other.pk)]


def test_once_the_balance_is_settled_the_default_card_can_be_deleted(shop, customer, owner):
    default = save_card(customer)
    Customer.objects.filter(pk=customer.pk).update(balance=4500)
    with pytest.raises(DomainError):
        services.customer_cards_update(actor=owner, account=shop, customer_id=customer.pk,
                                       delete_card_ids=[default.pk])

    Customer.objects.filter(pk=customer.pk).update(balance=0)
    services.customer_cards_update(actor=owner, account=shop, customer_id=customer.pk, delete_card_ids=[default.pk])

    assert not SavedCard.objects.exists()


def test_another_app_can_declare_a_card_it_relies_on(shop, customer, owner, monkeypatch):
    card = save_card(customer)
    monkeypatch.setattr(protection, "PROTECTORS", protection.PROTECTORS.copy())
    protection.PROTECTORS.register("another_app", lambda saved: "An active subscription is paid with this card."
                                   if saved.pk == card.pk else None)

    with pytest.raises(DomainError, match="An active subscription is paid with this card."):
        services.customer_cards_update(actor=owner, account=shop, customer_id=customer.pk, delete_card_ids=[card.pk])

    assert SavedCard.objects.filter(pk=card.pk).exists()


# ---- expiry ---------------------------------------------------------------------------------------

def test_the_daily_task_marks_the_cards_whose_month_is_over(shop, customer):
    ending = card_row(customer, exp=(3, 2026), is_default=True)
    later = card_row(customer, exp=(4, 2026))

    # 31 March 23:30 in Paris: still valid; 1 April 00:30 in Paris (22:30 UTC the day before): expired.
    with time_machine.travel(datetime.datetime(2026, 3, 31, 23, 30, tzinfo=PARIS), tick=False):
        assert upkeep.saved_cards_mark_expired() == 0
    with time_machine.travel(datetime.datetime(2026, 4, 1, 0, 30, tzinfo=PARIS), tick=False):
        assert upkeep.saved_cards_mark_expired() == 1
        assert upkeep.saved_cards_mark_expired() == 0

    ending.refresh_from_db()
    later.refresh_from_db()
    assert (ending.is_expired, later.is_expired) == (True, False)
    assert AuditEvent.objects.filter(action="saved_card.expired").count() == 1


def test_customers_whose_default_card_expires_within_30_days(shop, customer):
    soon, later, lapsed, not_default = (CustomerFactory(account=shop) for _ in range(4))
    card_row(soon, exp=(4, 2026), is_default=True)  # ends 30 April
    card_row(later, exp=(5, 2026), is_default=True)  # ends 31 May
    card_row(lapsed, exp=(2, 2026), is_default=True)  # ended in February
    card_row(not_default, exp=(4, 2026))
    card_row(not_default, exp=(9, 2030), is_default=True)

    found = selectors.with_expiring_default_card(Customer.objects.all(), shop, datetime.date(2026, 4, 5))

    assert list(found) == [soon]


def test_the_beat_task_marks_expired_cards(shop, customer):
    from saved_cards.tasks import mark_expired_cards

    card_row(customer, exp=(1, 2020), is_default=True)
    assert mark_expired_cards.delay().get() == 1
    assert SavedCard.objects.get().is_expired


def test_a_deleted_card_is_detached_by_the_worker_once_even_if_its_task_comes_twice(
        shop, customer, owner, django_capture_on_commit_callbacks):
    from saved_cards.tasks import detach_card

    card = save_card(customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.customer_cards_update(actor=owner, account=shop, customer_id=customer.pk, delete_card_ids=[card.pk])
    detachment = CardDetachment.objects.get()
    detach_card.delay(detachment.pk)  # a duplicate message: the row is done, nothing happens

    detachment.refresh_from_db()
    assert detachment.payment_method_id == card.payment_method_id and detachment.tries == 1
    assert detachment.detached_at is not None
    assert SandboxPaymentMethod.objects.get(pk=card.payment_method_id).customer_id is None


def test_a_card_of_another_processor_or_already_detached_is_done(shop, customer):
    card = save_card(customer)
    first = CardDetachment.objects.create(account=shop, processor="sandbox", payment_method_id=card.payment_method_id)
    elsewhere = CardDetachment.objects.create(account=shop, processor="stripe", payment_method_id="pm_elsewhere")

    for detachment in (first, elsewhere):
        assert upkeep.card_detachment_run(detachment_id=detachment.pk).detached_at is not None
    again = CardDetachment.objects.create(account=shop, processor="sandbox", payment_method_id=card.payment_method_id)
    assert upkeep.card_detachment_run(detachment_id=again.pk).detached_at is not None  # already detached


def test_a_detachment_the_processor_cannot_take_now_is_held_back_then_swept(shop, customer):
    card = save_card(customer)
    detachment = CardDetachment.objects.create(account=shop, processor="sandbox",
                                               payment_method_id=card.payment_method_id,
                                               created_at=timezone.now() - datetime.timedelta(minutes=1))

    with sandbox.faults("before", operation="detach_card"), pytest.raises(jobs.TryLater) as retry:
        upkeep.card_detachment_run(detachment_id=detachment.pk)

    detachment.refresh_from_db()
    assert (detachment.tries, detachment.last_error, detachment.detached_at) == (1, "processor_unavailable", None)
    assert upkeep.card_detachments_due(timezone.now()) == []  # held back until its retry is due
    later = timezone.now() + datetime.timedelta(seconds=retry.value.countdown + 1)
    assert upkeep.card_detachments_due(later) == [detachment.pk]
    with time_machine.travel(later):
        assert upkeep.card_detachment_run(detachment_id=detachment.pk).detached_at is not None
    assert SandboxPaymentMethod.objects.get(pk=card.payment_method_id).customer_id is None


def test_the_beat_schedule_runs_the_expiry_task_daily():
    from posbackoffice.celery import app

    entry = app.conf.beat_schedule["mark-expired-saved-cards"]
    assert entry["task"] == "saved_cards.tasks.mark_expired_cards"
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {41}
