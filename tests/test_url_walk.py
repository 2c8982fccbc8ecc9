"""Walks every URL pattern of the project as an anonymous visitor, as each staff role of the
account that owns the objects, and as the owner of another account; then, as the owner, with the
view's add-on switched off and with the account suspended (accounts.guard).

New features are covered automatically: a URL with parameters must get a sample below (the test
fails until it has one), and every view must declare its access with staff_view(...), public_view or
merchant_public_view(...) (accounts.tenancy).
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts import permissions as perms
from accounts import services
from tests.factories import member, owner_of, role, suspend, with_addons
from tests.url_samples import all_samples

# url name -> callable(account) returning the kwargs of an object that belongs to `account`.
SAMPLES = all_samples()
SKIPPED_NAMESPACES = {"admin"}  # Django's operator admin, guarded by is_staff, not by merchant roles.


def _walk(patterns, namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in SKIPPED_NAMESPACES:
                continue
            inner = entry.namespace if entry.namespace else namespace
            if namespace and entry.namespace:
                inner = f"{namespace}:{entry.namespace}"
            yield from _walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            if entry.name is None:
                continue
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, entry


def all_routes():
    return sorted({name: pattern for name, pattern in _walk(get_resolver().url_patterns)}.items())


ROUTES = all_routes()


def _access(pattern):
    return getattr(pattern.callback, "access", None)


def _has_params(pattern):
    return bool(pattern.pattern.regex.groupindex)


def _request(client, url):
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    return response


def _templates(response) -> list[str]:
    return [template.name for template in response.templates]


def test_every_view_declares_its_access():
    missing = [name for name, pattern in ROUTES if _access(pattern) is None]
    assert not missing, f"views without staff_view(...), public_view or merchant_public_view(...): {missing}"


def test_every_url_with_parameters_has_a_sample():
    missing = [name for name, pattern in ROUTES if _has_params(pattern) and name not in SAMPLES]
    assert not missing, f"add a sample object for these URLs under tests/url_samples/: {missing}"


@pytest.fixture
def shop(account, other_account):
    member(account, perms.CASHIER)  # a cashier membership for the membership samples
    for each in (account, other_account):  # every add-on on: the roles' permissions decide
        with_addons(each)
    return account


@pytest.mark.parametrize("name,pattern", ROUTES, ids=[name for name, _ in ROUTES])
def test_url_as_every_kind_of_visitor(client, shop, other_account, name, pattern):
    kwargs = SAMPLES[name](shop) if _has_params(pattern) else {}
    url = reverse(name, kwargs=kwargs)
    access = _access(pattern)

    # Anonymous visitors reach public pages and are sent to log in anywhere else.
    response = _request(client, url)
    assert response.status_code < 500, f"{url} anonymous: {response.status_code}"
    if not access.public:
        assert response.status_code == 302 and "/login/" in response["Location"], f"{url} anonymous"
    if access.merchant:  # a customer page acting for the shop is closed while the shop is suspended
        suspend(shop)
        response = _request(client, url)
        assert response.status_code == 403 and "accounts/closed.html" in _templates(response), f"{url} suspended"
    if access.public:
        return

    # Each role of the owning account: 403 exactly when the role lacks the declared permission.
    for preset in (perms.OWNER, perms.ADMIN, perms.MANAGER, perms.CASHIER):
        user = owner_of(shop) if preset == perms.OWNER else member(shop, preset)
        client.force_login(user)
        response = _request(client, url)
        allowed = access.permission is None or access.permission in role(shop, preset).granted()
        if allowed:
            assert response.status_code not in (403, 404) and response.status_code < 500, (
                f"{url} as {preset}: {response.status_code}"
            )
        else:
            assert response.status_code == 403, f"{url} as {preset} should be refused, got {response.status_code}"
            assert "staff role" in response.content.decode().lower() or "rôle" in response.content.decode()
        client.logout()

    # The owner of another account holds every permission but must not see this account's objects.
    client.force_login(owner_of(other_account))
    response = _request(client, url)
    if _has_params(pattern):
        assert response.status_code == 404, f"{url} from another account: {response.status_code}"
    else:
        assert response.status_code not in (403, 404) and response.status_code < 500, (
            f"{url} from another account: {response.status_code}"
        )
    client.logout()

    # A page of an add-on that is off says so, to everyone; the feature does not answer.
    client.force_login(owner_of(shop))
    if access.addon:
        services.account_addon_disable(actor=owner_of(shop), account=shop, code=access.addon)
        response = _request(client, url)
        assert response.status_code == 403 and "accounts/addon_off.html" in _templates(response), f"{url} add-on off"

    # A suspended account shows the "not active" page everywhere but the pages that stay open.
    suspend(shop)
    response = _request(client, url)
    refused = response.status_code == 403 and "accounts/account_inactive.html" in _templates(response)
    if access.while_inactive:
        assert not refused and response.status_code < 500, f"{url} suspended: {response.status_code}"
    else:
        assert refused, f"{url} suspended should show the account is not active, got {response.status_code}"
