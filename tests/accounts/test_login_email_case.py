"""A login e-mail is the same address whatever its case: sign-in and password reset find the user, the
lockout counts every spelling as one user, and every way a user is created or edited stores it lower-case
(the migration lower-cases what the operator admin stored as typed before)."""

import importlib

import pytest
from django.apps import apps as global_apps
from django.core import mail
from django.db import connection

from accounts import services
from accounts.models import StaffRole, User
from accounts.tenancy import scoped
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
lower_case_migration = importlib.import_module("accounts.migrations.0006_user_email_lower_case")


def login(client, email, password="pass-word-123"):
    return client.post("/login/", {"username": email, "password": password}, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("typed", ["CASHIER@DEMO.TEST", "Cashier@Demo.Test", "  cashier@demo.TEST "])
def test_signing_in_works_whatever_the_case_of_the_address(client, typed):
    user = UserFactory(email="cashier@demo.test")

    response = login(client, typed)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_wrong_password_says_only_the_password_is_case_sensitive(client):
    UserFactory(email="cashier@demo.test")

    response = login(client, "CASHIER@DEMO.TEST", "PASS-WORD-123")

    assert response.status_code == 200
    assert "The e-mail address or the password is not right. The password is case-sensitive." in \
        response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_in_any_case_count_against_the_same_user(client, settings):
    UserFactory(email="cashier@demo.test")
    spellings = ["CASHIER@DEMO.TEST", "cashier@demo.test", "Cashier@Demo.Test"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, spellings[attempt % len(spellings)], "wrong")

    response = login(client, "cashier@demo.test")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_password_reset_finds_the_user_whatever_the_case(client, django_capture_on_commit_callbacks):
    UserFactory(email="cashier@demo.test")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/password-reset/", {"email": "CASHIER@Demo.Test"})

    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["cashier@demo.test"]]


def test_every_way_of_creating_a_user_stores_the_address_lower_case(account, owner):
    cashier = scoped(StaffRole, account).get(preset="cashier")
    created = User.objects.create_user("Lea.Martin@Shop.TEST", "pass-word-123")
    added = services.staff_member_add(actor=owner, account=account, email=" Paul.Roux@Shop.TEST ", name="Paul",
                                      role_id=cashier.pk)
    again = services.staff_member_add(actor=owner, account=account, email="LEA.MARTIN@shop.test", name="Léa",
                                      role_id=cashier.pk)

    assert created.email == "lea.martin@shop.test"
    assert added.user.email == "paul.roux@shop.test"
    assert again.user == created  # the same person, not a second user


def test_the_operator_admin_stores_the_address_lower_case(admin_client_operator):
    client = admin_client_operator
    response = client.post("/operator/accounts/user/add/", {
        "email": "Nouveau.Caissier@Shop.TEST", "password1": "Un-mot-2-passe-solide",
        "password2": "Un-mot-2-passe-solide", "usable_password": "true"})

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="nouveau.caissier@shop.test")
    edit = client.post(f"/operator/accounts/user/{user.pk}/change/", {
        "email": "NOUVEAU.caissier@shop.test", "name": "Nouveau", "language": "", "is_active": "on"})
    assert edit.status_code == 302
    user.refresh_from_db()
    assert user.email == "nouveau.caissier@shop.test"
    duplicate = client.post("/operator/accounts/user/add/", {
        "email": "NOUVEAU.CAISSIER@SHOP.TEST", "password1": "Un-mot-2-passe-solide",
        "password2": "Un-mot-2-passe-solide", "usable_password": "true"})
    assert duplicate.status_code == 200 and User.objects.filter(email__iexact="nouveau.caissier@shop.test").count() == 1


@pytest.fixture
def admin_client_operator(client):
    operator = User.objects.create_superuser("operator@posbackoffice.test", "pass-word-123")
    client.force_login(operator)
    return client


def test_the_migration_lower_cases_addresses_stored_as_typed():
    stored = UserFactory(email="placeholder@shop.test")
    User.objects.filter(pk=stored.pk).update(email="Lea.Martin@Shop.TEST")  # as the admin used to save it

    lower_case_migration.lower_case_emails(global_apps, connection.schema_editor())

    stored.refresh_from_db()
    assert stored.email == "lea.martin@shop.test"


def test_the_migration_stops_on_two_users_that_differ_only_by_case():
    with connection.cursor() as cursor:  # only possible before the migration's unique index existed
        cursor.execute("DROP INDEX user_email_unique_any_case")
    first, second = UserFactory(email="a@shop.test"), UserFactory(email="b@shop.test")
    User.objects.filter(pk=first.pk).update(email="Lea@Shop.test")
    User.objects.filter(pk=second.pk).update(email="LEA@shop.test")

    with pytest.raises(RuntimeError, match="LEA@shop.test / Lea@Shop.test"):
        lower_case_migration.lower_case_emails(global_apps, connection.schema_editor())

    assert sorted(User.objects.filter(pk__in=[first.pk, second.pk]).values_list("email", flat=True)) == [
        "LEA@shop.test", "Lea@Shop.test"]
