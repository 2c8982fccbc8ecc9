"""Builders for the subscriptions tests: a shop with the add-on and saved cards on, an open register,
products, a subscriber with a card saved through the sandbox, plans made through the services, and a
snapshot of everything a refused action must leave untouched."""

import datetime
import zoneinfo

import time_machine

from accounts.addons import SUBSCRIPTIONS
from accounts.models import AuditEvent
from payments.models import Payment, Refund
from payments.sandbox.models import CardBehaviour, SandboxPaymentMethod
from retail.models import Customer, Fulfilment, Sale
from subscriptions import services
from subscriptions.models import Plan, PlanLine, Subscription, SubscriptionCycle
from tests.factories import with_addons
from tests.retail import report_factories as rf
from tests.saved_cards.builders import DECLINES_WHEN_CHARGED, VISA, enable, save_card

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=PARIS)


def travel(moment):
    return time_machine.travel(moment, tick=False)


def subs_shop(account):
    """The add-on and saved cards on, an outlet with its register, and two products."""
    with_addons(account, SUBSCRIPTIONS)
    account.refresh_from_db()
    enable(account)
    shop = rf.make_shop(account, cheque=False)
    shop.coffee = rf.product(shop, sku="CAFE-1", name="Café du mois", price=1800, rate_bp=550)
    shop.fee = rf.product(shop, sku="FRAIS-ABO", name="Frais d'abonnement", price=500, rate_bp=2000)
    return shop


def subscriber(shop, *, number: str = VISA, **fields) -> Customer:
    values = {"first_name": "Camille", "last_name": "Martin", "email": "camille@exemple.fr",
              "address_line1": "3 rue des Lilas", "postcode": "75011", "city": "Paris"} | fields
    customer = rf.customer(shop, **values)
    customer.card = save_card(customer, number=number)
    return customer


def monthly_box(shop, **overrides) -> Plan:
    values = {"name": "Box café", "interval": "monthly", "lines": [(shop.coffee.pk, 2, 1500)], "ships": True,
              "customer_type_name": "Abonnés café"} | overrides
    return services.plan_create(actor=shop.actor, account=shop.account, **values)


def subscribe(shop, customer, plan, *, start_date=None, card=None) -> Subscription:
    card = card or customer.card
    return services.subscription_create(actor=shop.actor, account=shop.account, customer_id=customer.pk,
                                        plan_id=plan.pk, card_id=card.pk, register_id=shop.register.pk,
                                        start_date=start_date)


def declines(card) -> None:
    SandboxPaymentMethod.objects.filter(pk=card.payment_method_id).update(behaviour=CardBehaviour.CHARGE_FAILS)


def succeeds(card) -> None:
    SandboxPaymentMethod.objects.filter(pk=card.payment_method_id).update(behaviour=CardBehaviour.SUCCEED)


def run_due():
    """What beat and the workers do: bill every due subscription, a batch a message."""
    from subscriptions import batch, billing

    batch.bill_many(billing.due_ids())


def refreshed(sub) -> Subscription:
    sub.refresh_from_db()
    return sub


def payments_of(sub) -> list[Payment]:
    cycles = SubscriptionCycle.objects.filter(subscription=sub).values("pk")
    return list(Payment.objects.filter(purpose="subscription_cycle", purpose_ref__in=cycles).order_by("pk"))


def state(account) -> dict:
    """Everything a refused action could change."""
    return {
        "plans": list(Plan.objects.filter(account=account).order_by("pk").values_list("pk", "name", "archived_at")),
        "lines": list(PlanLine.objects.filter(account=account).order_by("pk").values_list("pk", "quantity")),
        "subs": list(Subscription.objects.filter(account=account).order_by("pk")
                     .values_list("pk", "status", "card_id", "due_at", "cancel_at_period_end", "notes")),
        "cycles": list(SubscriptionCycle.objects.filter(account=account).order_by("pk").values_list("pk", "status")),
        "payments": list(Payment.objects.filter(account=account).order_by("pk").values_list("pk", "status",
                                                                                              "amount_refunded")),
        "refunds": Refund.objects.filter(account=account).count(),
        "sales": Sale.objects.filter(account=account).count(),
        "fulfilments": Fulfilment.objects.filter(account=account).count(),
        "types": list(Customer.objects.filter(account=account).order_by("pk").values_list("pk", "customer_type")),
        "audit": AuditEvent.objects.filter(account=account).count(),
    }


__all__ = ["DECLINES_WHEN_CHARGED", "VISA"]
