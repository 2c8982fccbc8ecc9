import pytest

from accounts import permissions as perms
from tests.factories import AccountFactory, RegisterFactory, member, owner_of


@pytest.fixture
def account(db):
    return AccountFactory(name="Boutique Test")


@pytest.fixture
def other_account(db):
    return AccountFactory(name="Other Shop")


@pytest.fixture
def owner(account):
    return owner_of(account)


@pytest.fixture
def admin_user(account):
    return member(account, perms.ADMIN)


@pytest.fixture
def manager(account):
    return member(account, perms.MANAGER)


@pytest.fixture
def cashier(account):
    return member(account, perms.CASHIER)


@pytest.fixture
def register(account):
    return RegisterFactory(outlet__account=account)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def demo_shop(transactional_db):
    """The demo shops and logins as `make run` loads them (for browser journeys), with the reduced data
    set: the journeys need the shops and their staff, not three weeks of sales (~15 s to load)."""
    from django.core.management import call_command

    call_command("demo_data", "--small", stdout=open("/dev/null", "w"))
