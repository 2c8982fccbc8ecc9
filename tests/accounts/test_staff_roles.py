import pytest

from accounts import permissions as perms
from accounts import services
from accounts.models import AuditEvent, Membership, StaffRole
from posbackoffice.errors import DomainError, NotAllowed
from tests.factories import member, role

pytestmark = pytest.mark.django_db


def test_new_account_has_the_four_presets_with_owner_and_admin_holding_everything(account):
    roles = {r.preset: r for r in StaffRole.objects.filter(account=account)}
    assert set(roles) == {perms.OWNER, perms.ADMIN, perms.MANAGER, perms.CASHIER}
    assert roles[perms.OWNER].granted() == perms.ALL_CODES
    assert roles[perms.ADMIN].granted() == perms.ALL_CODES
    assert "use_saved_payment_method" not in roles[perms.CASHIER].granted()
    assert roles[perms.OWNER].name == "Propriétaire" or roles[perms.OWNER].name == "Owner"


def test_owner_role_cannot_lose_its_rights(account, owner):
    owner_role = role(account, perms.OWNER)
    with pytest.raises(NotAllowed):
        services.staff_role_update(actor=owner, account=account, role_id=owner_role.pk, name="Boss", permissions=[])
    owner_role.refresh_from_db()
    assert owner_role.granted() == perms.ALL_CODES
    assert not AuditEvent.objects.filter(action="staff_role.updated").exists()


def test_update_role_writes_an_audit_row_with_before_and_after(account, owner):
    cashier_role = role(account, perms.CASHIER)
    services.staff_role_update(actor=owner, account=account, role_id=cashier_role.pk, name="Caissier",
                               permissions=["sell", "use_saved_payment_method"])
    cashier_role.refresh_from_db()
    assert cashier_role.granted() == {"sell", "use_saved_payment_method"}
    event = AuditEvent.objects.get(action="staff_role.updated")
    assert event.actor == owner and event.account == account
    assert "manage_customers" in event.before["permissions"]
    assert event.after["permissions"] == ["sell", "use_saved_payment_method"]


@pytest.mark.parametrize("codes", [["manage_staff_roles"], ["manage_billing", "sell"], ["no_such_thing"]])
def test_reserved_or_unknown_permissions_are_refused_and_nothing_changes(account, owner, codes):
    manager_role = role(account, perms.MANAGER)
    before = list(manager_role.permissions)
    with pytest.raises(DomainError):
        services.staff_role_update(actor=owner, account=account, role_id=manager_role.pk, name="Manager",
                                   permissions=codes)
    manager_role.refresh_from_db()
    assert manager_role.permissions == before
    assert not AuditEvent.objects.filter(action="staff_role.updated").exists()


def test_custom_role_and_duplicate_names(account, owner):
    created = services.staff_role_create(actor=owner, account=account, name="Stagiaire", permissions=["sell"])
    assert created.preset == perms.CUSTOM and created.granted() == {"sell"}
    with pytest.raises(DomainError):
        services.staff_role_create(actor=owner, account=account, name="stagiaire", permissions=[])
    assert StaffRole.objects.filter(account=account, name__iexact="stagiaire").count() == 1


def test_owner_membership_keeps_the_owner_role(account, owner):
    owner_membership = Membership.objects.get(account=account, user=owner)
    with pytest.raises(NotAllowed):
        services.membership_change_role(actor=owner, account=account, membership_id=owner_membership.pk,
                                        role_id=role(account, perms.CASHIER).pk)
    someone = member(account, perms.CASHIER)
    membership = Membership.objects.get(account=account, user=someone)
    with pytest.raises(NotAllowed):
        services.membership_change_role(actor=owner, account=account, membership_id=membership.pk,
                                        role_id=role(account, perms.OWNER).pk)
    services.membership_change_role(actor=owner, account=account, membership_id=membership.pk,
                                    role_id=role(account, perms.MANAGER).pk)
    membership.refresh_from_db()
    assert membership.role.preset == perms.MANAGER


def test_audit_events_are_append_only(account):
    event = AuditEvent.objects.filter(account=account).first()
    event.action = "tampered"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    with pytest.raises(ValueError):
        AuditEvent.objects.filter(account=account).update(action="tampered")
    with pytest.raises(ValueError):
        AuditEvent.objects.filter(account=account).delete()
    assert not AuditEvent.objects.filter(action="tampered").exists()


def test_a_user_who_acted_cannot_be_deleted_so_the_trail_keeps_its_actor(account):
    from django.db.models import ProtectedError

    event = AuditEvent.objects.filter(account=account, actor__isnull=False).first()
    with pytest.raises(ProtectedError):
        event.actor.delete()
    event.refresh_from_db()
    assert event.actor_id is not None


def test_staff_roles_page_edits_checkboxes(owner_client, account):
    cashier_role = role(account, perms.CASHIER)
    response = owner_client.post(f"/setup/staff-roles/{cashier_role.pk}/",
                                 {"name": "Caisse", "permissions": ["sell", "manage_products"]})
    assert response.status_code == 302
    cashier_role.refresh_from_db()
    assert cashier_role.name == "Caisse" and cashier_role.granted() == {"sell", "manage_products"}


def test_staff_roles_page_shows_refusal_on_the_form_and_saves_nothing(owner_client, account):
    manager_role = role(account, perms.MANAGER)
    before = list(manager_role.permissions)
    response = owner_client.post(f"/setup/staff-roles/{manager_role.pk}/",
                                 {"name": "Manager", "permissions": ["sell", "manage_staff_roles"]})
    assert response.status_code == 200
    # The owner follows the shop's language: French.
    assert "Seuls les rôles Propriétaire et Administrateur peuvent disposer" in response.content.decode()
    manager_role.refresh_from_db()
    assert manager_role.permissions == before


def test_manager_cannot_open_staff_roles(client, account, manager):
    client.force_login(manager)
    response = client.get("/setup/staff-roles/")
    assert response.status_code == 403


def test_another_accounts_role_answers_404(client, account, other_account):
    from tests.factories import owner_of

    client.force_login(owner_of(other_account))
    target = role(account, perms.CASHIER)
    response = client.post(f"/setup/staff-roles/{target.pk}/", {"name": "Hacked", "permissions": ["sell"]})
    assert response.status_code == 404
    target.refresh_from_db()
    assert target.name != "Hacked"


def test_add_staff_member(owner_client, account):
    cashier_role = role(account, perms.CASHIER)
    response = owner_client.post("/setup/staff/add/", {"email": "new@shop.test", "name": "Nina",
                                                       "role": cashier_role.pk, "password": "long-enough-1"})
    assert response.status_code == 302
    assert Membership.objects.filter(account=account, user__email="new@shop.test", role=cashier_role).exists()
    response = owner_client.post("/setup/staff/add/", {"email": "new@shop.test", "name": "Nina",
                                                       "role": cashier_role.pk})
    assert response.status_code == 400
    assert Membership.objects.filter(account=account, user__email="new@shop.test").count() == 1
