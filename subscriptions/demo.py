"""Demo data of subscriptions, loaded by `manage.py demo_data` after saved cards': the demo shop has the
add-on on, two plans — a monthly box that ships and gives the customer type "Abonné", and a
yearly membership fee (the non-inventory item FRAIS-ABO, one year) — and about twenty subscriptions in
every status, made through the services and billed by the billing run at their past dates (`now=`):
active ones with a few paid months, scheduled, paused, cancelled (now and at the end of the period),
expired, and one overdue after two failed retries. Cards are typed into the sandbox's card entry. Only
with the sandbox processor; skipped when the shop has plans."""

import datetime

from django.utils import timezone

from accounts import permissions as perms
from accounts.addons import SUBSCRIPTIONS, account_has_addon
from accounts.models import Membership, Register
from accounts.services import account_addon_enable
from accounts.tenancy import scoped
from payments.gateway import MERCHANT, get_gateway
from retail.models import Customer, Product
from saved_cards.demo import _saved_through_the_card_entry
from saved_cards.selectors import feature_enabled
from subscriptions import billing, periods, services
from subscriptions.models import Plan

GOOD_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000341"
# (status wanted, plan, months ago it started, card)
SUBSCRIBERS = [
    ("active", "box", 3, GOOD_CARD), ("active", "box", 2, GOOD_CARD), ("active", "box", 1, GOOD_CARD),
    ("active", "box", 0, GOOD_CARD), ("active", "box", 5, GOOD_CARD), ("active", "box", 4, GOOD_CARD),
    ("active", "membership", 2, GOOD_CARD), ("active", "membership", 6, GOOD_CARD),
    ("scheduled", "box", -1, GOOD_CARD), ("scheduled", "membership", -1, GOOD_CARD),
    ("paused", "box", 2, GOOD_CARD), ("paused", "box", 3, GOOD_CARD),
    ("cancelled", "membership", 2, GOOD_CARD), ("cancelled", "membership", 3, GOOD_CARD),
    ("period_end", "box", 1, GOOD_CARD),
    ("expired", "membership", 13, GOOD_CARD), ("expired", "membership", 14, GOOD_CARD),
    ("overdue", "box", 0, DECLINING_CARD),
    ("active", "box", 2, GOOD_CARD), ("active", "membership", 1, GOOD_CARD),
]


def _plans(owner, account) -> dict[str, Plan]:
    products = {p.sku: p for p in scoped(Product, account).filter(is_active=True).order_by("pk")}
    fee = products.get("FRAIS-ABO")
    goods = [p for sku, p in products.items() if sku != "FRAIS-ABO"][:2]
    box = services.plan_create(actor=owner, account=account, name="Box du mois", interval="monthly",
                               lines=[(goods[0].pk, 2, None), (goods[1].pk, 1, 990)], ships=True,
                               customer_type_name="Abonné")
    membership = services.plan_create(actor=owner, account=account, name="Adhésion annuelle", interval="yearly",
                                      lines=[(fee.pk if fee else goods[0].pk, 1, 2900)], duration_intervals=1)
    return {"box": box, "membership": membership}


def _subscribe_and_bill(owner, account, register, customer, card, plan, start, now, status) -> None:
    """Subscribe on `start` and run the billing at each due date up to now, as beat and the workers did."""
    zone_now = now
    begin = periods.day_start(account, start) + datetime.timedelta(hours=10)
    if start > periods.shop_today(account, now):  # scheduled: subscribed today, starting later
        services.subscription_create(actor=owner, account=account, customer_id=customer.pk, plan_id=plan.pk,
                                     card_id=card.pk, register_id=register.pk, start_date=start, now=now)
        return
    sub = services.subscription_create(actor=owner, account=account, customer_id=customer.pk, plan_id=plan.pk,
                                       card_id=card.pk, register_id=register.pk, now=begin)
    if status == "overdue":  # the first try and two retries (3 and 5 days later) declined
        for days in (0, 3, 5):
            billing.bill(sub.pk, now=begin + datetime.timedelta(days=days))
        return
    moment = begin
    while moment <= zone_now:
        billing.bill(sub.pk, now=moment)
        sub.refresh_from_db()
        if sub.due_at is None or sub.due_at > zone_now:
            break
        moment = max(sub.due_at + datetime.timedelta(hours=8), moment + datetime.timedelta(minutes=1))
    if status == "paused":
        services.subscription_pause(actor=owner, account=account, subscription_id=sub.pk, now=now)
    elif status == "cancelled":
        services.subscription_cancel(actor=owner, account=account, subscription_id=sub.pk,
                                     when=services.CANCEL_NOW, now=now)
    elif status == "period_end":
        services.subscription_cancel(actor=owner, account=account, subscription_id=sub.pk,
                                     when=services.CANCEL_AT_PERIOD_END, now=now)


def load(account) -> None:
    if get_gateway(MERCHANT).name != "sandbox" or not feature_enabled(account):
        return  # cards are typed into the sandbox's card entry
    owner = scoped(Membership, account).get(role__preset=perms.OWNER).user
    if not account_has_addon(account, SUBSCRIPTIONS):
        account_addon_enable(actor=owner, account=account, code=SUBSCRIPTIONS)
    if scoped(Plan, account).exists():
        return
    plans = _plans(owner, account)
    register = scoped(Register, account).order_by("pk").first()
    now = timezone.now()
    today = periods.shop_today(account, now)
    expiry = f"12/{(today.year + 3) % 100:02d}"
    customers = list(scoped(Customer, account).exclude(email="").exclude(first_name="").exclude(address_line1="")
                     .filter(saved_cards__isnull=True).order_by("-pk")[:len(SUBSCRIBERS)])
    for customer, (status, plan_key, months_ago, number) in zip(customers, SUBSCRIBERS, strict=False):
        card = _saved_through_the_card_entry(owner=owner, customer=customer, number=number, expiry=expiry)
        if months_ago < 0:
            start = today + datetime.timedelta(days=9)
        elif status == "overdue":
            start = today - datetime.timedelta(days=6)
        else:
            start = periods.add_months(today, -months_ago) - datetime.timedelta(days=len(customer.last_name) % 9)
        _subscribe_and_bill(owner, account, register, customer, card, plans[plan_key], start, now, status)
