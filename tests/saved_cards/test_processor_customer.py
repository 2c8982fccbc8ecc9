"""The processor's copy of a customer follows the customer: a change of name or e-mail on the profile makes
the copy due in the same transaction, and the worker sends it once committed (held back and swept again
while the processor does not answer); other changes, and customers the processor does not know, send
nothing."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from payments.gateway import sandbox
from payments.sandbox.models import SandboxCustomer, SandboxEvent
from retail.services.customers import customer_update
from saved_cards import upkeep
from saved_cards.models import CardCustomer
from saved_cards.tasks import sweep_processor_customers
from tests.factories import owner_of
from tests.retail.factories import CustomerFactory
from tests.saved_cards.builders import enable, save_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def saved(account):
    """Léa Roux, with a card saved: the processor has its own customer for her."""
    enable(account)
    customer = CustomerFactory(account=account, first_name="Léa", last_name="Roux", email="lea@exemple.fr",
                               company="")
    save_card(customer)
    return customer


def processor_copy(customer) -> tuple[str, str]:
    link = CardCustomer.objects.get(customer=customer)
    copy = SandboxCustomer.objects.get(pk=link.processor_customer_id)
    return copy.name, copy.email


def edit(client, customer, **changes):
    data = {"first_name": customer.first_name, "last_name": customer.last_name, "company": customer.company,
            "email": customer.email, "phone": customer.phone, "country": customer.country or "FR", **changes}
    return client.post(reverse("retail:customer_edit", args=[customer.pk]), data)


def test_a_new_name_and_e_mail_on_the_profile_reach_the_processor(client, saved,
                                                                  django_capture_on_commit_callbacks):
    client.force_login(owner_of(saved.account))
    assert processor_copy(saved) == ("Léa Roux", "lea@exemple.fr")

    with django_capture_on_commit_callbacks(execute=True):
        response = edit(client, saved, last_name="Roux-Martin", email="Lea.Roux@Exemple.fr")

    assert response.status_code == 302
    assert processor_copy(saved) == ("Léa Roux-Martin", "lea.roux@exemple.fr")


def test_other_changes_send_nothing(client, saved, django_capture_on_commit_callbacks):
    client.force_login(owner_of(saved.account))
    events = SandboxEvent.objects.filter(type="customer.updated").count()

    with django_capture_on_commit_callbacks(execute=True) as queued:
        edit(client, saved, phone="06 12 34 56 78", city="Lyon")

    assert queued == [] and SandboxEvent.objects.filter(type="customer.updated").count() == events
    assert processor_copy(saved) == ("Léa Roux", "lea@exemple.fr")


def test_a_customer_the_processor_does_not_know_sends_nothing(account, django_capture_on_commit_callbacks):
    enable(account)
    customer = CustomerFactory(account=account, first_name="Paul", last_name="Durand")

    with django_capture_on_commit_callbacks(execute=True) as queued:
        customer_update(actor=owner_of(account), account=account, customer_id=customer.pk, first_name="Paulo",
                        last_name="Durand", email="paulo@exemple.fr")

    assert queued == [] and not SandboxCustomer.objects.exists()


def test_the_change_is_sent_again_by_the_sweep_while_the_processor_does_not_answer(
        saved, django_capture_on_commit_callbacks):
    with sandbox.faults("before", operation="update_customer", times=1), django_capture_on_commit_callbacks(
            execute=True):
        customer_update(actor=owner_of(saved.account), account=saved.account, customer_id=saved.pk,
                        first_name="Léa", last_name="Roux", company="", email="lea.roux@exemple.fr")

    copy = CardCustomer.objects.get(customer=saved)
    assert processor_copy(saved) == ("Léa Roux", "lea@exemple.fr")
    assert (copy.synced_version, copy.details_version, copy.last_error) == (0, 1, "processor_unavailable")
    assert upkeep.card_customers_to_sync(timezone.now()) == []  # held back until its retry is due

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=15)), \
            django_capture_on_commit_callbacks(execute=True):
        assert sweep_processor_customers.delay().get() == 1

    copy.refresh_from_db()
    assert processor_copy(saved) == ("Léa Roux", "lea.roux@exemple.fr")
    assert (copy.synced_version, copy.details_version, copy.tries) == (1, 1, 0)
    assert upkeep.card_customers_to_sync(timezone.now()) == []


def test_a_copy_the_processor_no_longer_knows_is_left_alone(saved, django_capture_on_commit_callbacks):
    CardCustomer.objects.filter(customer=saved).update(processor_customer_id="cus_sbx_gone")

    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=owner_of(saved.account), account=saved.account, customer_id=saved.pk,
                        first_name="Léa", last_name="Roux", company="", email="lea.roux@exemple.fr")

    copy = CardCustomer.objects.get(customer=saved)
    assert (copy.synced_version, copy.details_version) == (1, 1)  # done: nothing left to send
