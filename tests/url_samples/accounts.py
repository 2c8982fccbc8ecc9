from accounts import permissions as perms
from accounts.models import AppConnection, Membership, ThirdPartyApp
from tests.factories import member, role


def _cashier_membership(account):
    membership = Membership.objects.filter(account=account, role__preset=perms.CASHIER).first()
    if membership is None:
        member(account, perms.CASHIER)
        membership = Membership.objects.filter(account=account, role__preset=perms.CASHIER).first()
    return membership


def _connected_app(account):
    app = ThirdPartyApp.objects.order_by("pk").first()
    return AppConnection.objects.get_or_create(account=account, app=app)[0]


SAMPLES = {
    "setup:app_cancel": lambda account: {"connection_id": _connected_app(account).pk},
    "setup:staff_role_edit": lambda account: {"role_id": role(account, perms.CASHIER).pk},
    "setup:membership_role": lambda account: {"membership_id": _cashier_membership(account).pk},
    # Public, token-checked page: a bogus token must answer cleanly.
    "password_reset_confirm": lambda account: {"uidb64": "MQ", "token": "bogus-token"},
}
