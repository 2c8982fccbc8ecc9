"""The demo shop's billing with us: on the legacy Advanced plan (monthly, with a 10 % discount) with the
Subscriptions add-on, a card on file at the platform's (sandbox) processor account, a welcome credit on
its balance and three months billed by the billing run at their past dates — so that putting it on hold
and reactivating it shows a real recommendation (Pro with Subscriptions) and real warnings."""

import datetime

from django.utils import timezone

from accounts import permissions as perms
from accounts.models import Membership
from accounts.tenancy import scoped
from billing import runs, services
from billing.ledger import ledger_add
from billing.models import Invoice, LedgerEntry, MerchantPlan, Plan
from payments.gateway import PLATFORM, get_gateway
from payments.sandbox import services as sandbox

PLAN = "advanced"
MONTHS_BILLED = 3


def load(account) -> None:
    if get_gateway(PLATFORM).name != "sandbox" or scoped(Invoice, account).exists():
        return  # the demo types a test card, which only the sandbox takes; already loaded
    owner = scoped(Membership, account).get(role__preset=perms.OWNER).user
    mp = services.merchant_plan_for(account)
    now = timezone.now()
    first = now - datetime.timedelta(days=31 * MONTHS_BILLED - 5)
    MerchantPlan.objects.filter(pk=mp.pk).update(plan=Plan.objects.get(code=PLAN), frequency="monthly",
                                                 discount_percent=10, next_bill_at=first)
    # What the browser's card-entry module does: tokenize the card at the processor, confirm the setup.
    secret = services.billing_card_setup_start(actor=owner, account=account)
    method = sandbox.payment_method_create(number="4242424242424242", expiry="12/40", cvc="123")
    sandbox.setup_intent_confirm(setup_id=secret.split("_secret_")[0], client_secret=secret,
                                 payment_method_id=method["id"])
    services.billing_card_setup_finish(actor=owner, account=account)
    scoped(MerchantPlan, account).select_for_update().get()  # the balance's lock, as every entry is written
    ledger_add(account=account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=2000, at=first - datetime.timedelta(days=1),
               description="Welcome credit")
    moment = first
    while moment <= now:
        runs.bill(mp.pk, now=moment)
        mp.refresh_from_db()
        if mp.next_bill_at is None or mp.next_bill_at <= moment:
            break
        moment = mp.next_bill_at
