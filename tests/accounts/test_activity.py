"""Setup › Activity: the audit trail in the reader's words, its filters, refused filters, access."""

import datetime
import html
import re
import zoneinfo
from pathlib import Path

import pytest
import time_machine

from accounts import permissions as perms
from accounts import services
from accounts.audit import action_labels
from tests.factories import member, role

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def history(account, owner):
    """A role change on the 3rd by the owner, an outlet created on the 5th by an admin."""
    admin = member(account, perms.ADMIN, name="Hugo Bernard")
    with time_machine.travel(datetime.datetime(2026, 11, 3, 10, tzinfo=PARIS), tick=False):
        services.staff_role_update(actor=owner, account=account, role_id=role(account, perms.CASHIER).pk,
                                   name="Caisse", permissions=["sell"])
    with time_machine.travel(datetime.datetime(2026, 11, 5, 10, tzinfo=PARIS), tick=False):
        services.outlet_create(actor=admin, account=account, name="Lyon", address="")
    return admin


def _get(client, user, language="fr", **query):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    return client.get("/setup/activity/", query)


def test_events_read_in_the_users_language_with_json_changes(client, owner, history):
    response = _get(client, owner)
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    assert "Rôle du personnel modifié" in text and "Établissement créé" in text
    assert ">staff_role.updated<" not in text  # codes are for machines (option values), not for reading
    assert '"permissions": [\n    "sell"\n  ]' in text  # before/after as indented JSON, not Python
    assert "Modification" in text  # the column is the change, not the verb "edit"


def test_filters_by_action_actor_dates_and_object(client, owner, history):
    by_action = _get(client, owner, action="outlet.created")
    assert [row["event"].action for row in by_action.context["rows"]] == ["outlet.created"]
    by_actor = _get(client, owner, actor=history.pk)
    assert {row["event"].actor_id for row in by_actor.context["rows"]} == {history.pk}
    by_dates = _get(client, owner, date_from="2026-11-03", date_to="2026-11-04")
    assert [row["event"].action for row in by_dates.context["rows"]] == ["staff_role.updated"]
    by_object = _get(client, owner, q="Lyon")
    assert [row["event"].object_repr for row in by_object.context["rows"]] == ["Lyon"]
    action_choices = dict(by_action.context["form"].fields["action"].choices)
    assert action_choices["outlet.created"] == "Établissement créé"


def test_htmx_refresh_answers_the_results_partial(client, owner, history):
    owner.language = "en"
    owner.save(update_fields=["language"])
    client.force_login(owner)
    response = client.get("/setup/activity/", {"action": "outlet.created"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text and "Outlet created" in text


@pytest.mark.parametrize("query,message", [
    ({"date_from": "2026-11-05", "date_to": "2026-11-03"}, "The start date is after the end date."),
    ({"actor": "999999"}, "Select a valid choice."),
    ({"action": "nothing.done"}, "Select a valid choice."),
])
def test_a_wrong_filter_says_why_and_lists_nothing(client, owner, history, query, message):
    response = _get(client, owner, language="en", **query)
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert response.context["rows"] == []


def test_other_accounts_events_never_show(client, owner, history, other_account):
    from tests.factories import owner_of

    response = _get(client, owner_of(other_account), action="outlet.created")
    assert response.context["rows"] == []


def test_a_cashier_is_refused(client, account):
    response = _get(client, member(account, perms.CASHIER), language="en")
    assert response.status_code == 403


def test_every_action_the_code_writes_has_a_label():
    written = set()
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "migrations" in path.parts:
            continue
        source = path.read_text()
        written |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', source))
        if 'action=f"payment.{payment.status}"' in source:
            from payments.models import Payment

            written |= {f"payment.{status}" for status in Payment.Status.values}
        if 'action=f"payment.refund_{refund.status}"' in source:
            from payments.models import Refund

            written |= {f"payment.refund_{status}" for status in Refund.Status.values}
    assert written, "the scan found no audit actions"
    assert sorted(written - set(action_labels())) == []
