"""Demo data of the accounts app: the demo shop, its staff, outlets and registers, and a second
account that shows tenant isolation. Idempotent."""

from accounts import permissions as perms
from accounts import services
from accounts.models import Membership, Outlet, Register, StaffRole, User
from accounts.tenancy import scoped

DEMO_PASSWORD = "demo"  # the demo's published password  # nosec B105
SHOP_NAME = "Boutique Léa"
OTHER_SHOP_NAME = "Autre Boutique"
STAFF = [
    ("owner@demo.test", "Léa Martin", perms.OWNER),
    ("admin@demo.test", "Hugo Bernard", perms.ADMIN),
    ("manager@demo.test", "Chloé Petit", perms.MANAGER),
    ("cashier@demo.test", "Lucas Durand", perms.CASHIER),
]
OTHER_OWNER = ("other@demo.test", "Paul Roux")
OUTLETS = [
    ("Paris Marais", "12 rue des Francs-Bourgeois, 75004 Paris", ["Caisse 1", "Caisse 2"]),
    ("Lyon Presqu’île", "8 rue de Brest, 69002 Lyon", ["Caisse 1"]),
]


def _user(email, name):
    user = User.objects.filter(email=email).first()
    if user is None:
        # Demo passwords are deliberately trivial; create_user does not run the strength validators.
        user = User.objects.create_user(email, DEMO_PASSWORD, name=name)
    return user


def _account(name, owner_email, owner_name):
    owner = _user(owner_email, owner_name)
    membership = Membership.objects.filter(user=owner, account__name=name).select_related("account").first()
    if membership:
        return membership.account
    return services.account_create(name=name, country="FR", currency="EUR", tz="Europe/Paris",
                                   language="fr", owner=owner)


def _outlet(account, name, address, registers):
    outlet = scoped(Outlet, account).filter(name=name).first()
    if outlet is None:
        outlet = services.outlet_create(actor=None, account=account, name=name, address=address)
    for register_name in registers:
        if not Register.objects.filter(outlet=outlet, name=register_name).exists():
            services.register_create(actor=None, account=account, outlet_id=outlet.pk, name=register_name)
    return outlet


def load():
    """Returns (demo shop, other account)."""
    shop = _account(SHOP_NAME, *STAFF[0][:2])
    roles = {role.preset: role for role in scoped(StaffRole, shop)}
    for email, name, preset in STAFF[1:]:
        user = _user(email, name)
        if not scoped(Membership, shop).filter(user=user).exists():
            Membership.objects.create(account=shop, user=user, role=roles[preset])
    for outlet in OUTLETS:
        _outlet(shop, *outlet)
    other = _account(OTHER_SHOP_NAME, *OTHER_OWNER)
    _outlet(other, "Bordeaux", "3 cours de l’Intendance, 33000 Bordeaux", ["Caisse 1"])
    return shop, other


def load_integrations(shop) -> None:
    """After retail's demo: the demo shop's Xero and third-party apps (accounts/integrations_demo.py)."""
    from accounts import integrations_demo

    integrations_demo.load(shop)
