"""Demo of Setup › Integrations, loaded by `manage.py demo_data` after retail's (it posts retail's closures
and on-account sales through the registry, never importing retail): the demo shop's Xero is connected
(the sandbox accounting system), everything up to three days ago is posted, so the last days' register
closures and on-account sales wait for "Post now"; two third-party apps are connected. Only with the
sandbox adapter; skipped once the shop has a connection."""

import datetime

from django.conf import settings
from django.utils import timezone

from accounts import integration_services as services
from accounts import permissions as perms
from accounts.models import AccountingConnection, Membership, ThirdPartyApp
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError

APPS = ("loyaltyloop", "shiftplanner")


def load(shop) -> None:
    if settings.ACCOUNTING_ADAPTER != "sandbox" or scoped(AccountingConnection, shop).exists():
        return
    owner = scoped(Membership, shop).select_related("user").get(role__preset=perms.OWNER).user
    now = timezone.now()
    services.accounting_connect(actor=owner, account=shop, now=now - datetime.timedelta(days=30))
    try:
        services.accounting_post_now(actor=owner, account=shop, now=now - datetime.timedelta(days=2),
                                     until=now - datetime.timedelta(days=3))
    except DomainError:  # nothing that old (a shop without sales)
        pass
    for app in ThirdPartyApp.objects.filter(slug__in=APPS, is_active=True).order_by("name"):
        services.app_connect(actor=owner, account=shop, app_id=app.pk, now=now - datetime.timedelta(days=20))
