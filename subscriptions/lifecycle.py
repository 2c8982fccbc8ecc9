"""What both the staff's services (subscriptions.services) and the billing job (subscriptions.billing)
do to a subscription: the card check, its audit rows, ending it and taking back its customer type.
Kept apart so the billing job never imports the module that queues it."""

import datetime

from django.utils.translation import gettext as _

from accounts.services import audit_row as accounts_audit_row
from accounts.tenancy import scoped
from payments.gateway import MERCHANT, get_gateway
from posbackoffice.errors import DomainError
from retail.services.customers import customer_type_assign
from saved_cards.models import SavedCard
from subscriptions.models import Subscription, SubscriptionCycle, SubscriptionSettings


class CardUnusable(DomainError):
    pass


def usable_card(account, customer_id: int, card_id: int | None, today: datetime.date,
                loaded: SavedCard | None = None) -> SavedCard:
    """`loaded`: the card already read with its subscription (the billing run), checked the same way."""
    if loaded is not None and loaded.pk == card_id:
        card = loaded if (loaded.account_id, loaded.customer_id) == (account.pk, customer_id) else None
    else:
        card = scoped(SavedCard, account).filter(customer_id=customer_id, pk=card_id).first() if card_id else None
    if card is None:
        raise CardUnusable(_("Choose a saved card of this customer, or add one."))
    if card.expired_on(today):
        raise CardUnusable(_("This card has expired. Choose another card, or ask the customer for a new one."))
    if card.processor != get_gateway(MERCHANT).name:
        raise CardUnusable(_("This card was saved with another card processor and cannot be charged."))
    return card


def state(sub: Subscription) -> dict:
    return {"status": sub.status, "next_billing_date": sub.next_billing_date, "card": sub.card_id,
            "cancel_at_period_end": sub.cancel_at_period_end, "next_period": sub.next_period}


def audit(sub: Subscription, action: str, actor, before, now, **extra):
    audit_row(sub, action, actor, before, now, **extra).save(force_insert=True)


def audit_row(sub: Subscription, action: str, actor, before, now, **extra):
    """The audit row `audit` writes, not saved yet (the batched billing run writes them together)."""
    return accounts_audit_row(account=sub.account, actor=actor, action=action, target=sub, before=before,
                              after=state(sub) | extra, at=now)


def take_back_type(sub: Subscription, *, actor, now) -> None:
    """Remove the customer type this subscription gave, unless another live subscription gives it too
    or the customer's type was changed since."""
    if not sub.customer_type_id:
        return
    others = (scoped(Subscription, sub.account).filter(customer_id=sub.customer_id, status__in=Subscription.LIVE,
                                                       customer_type_id=sub.customer_type_id)
              .exclude(pk=sub.pk).exists())
    if not others:
        customer_type_assign(actor=actor, account=sub.account, customer_id=sub.customer_id, customer_type_id=None,
                             only_if_type_id=sub.customer_type_id, reason=f"subscription {sub.pk} ended", now=now)


def abandon_open_cycle(sub: Subscription) -> None:
    """A failed cycle left behind (paused or cancelled while overdue) is retried no more."""
    SubscriptionCycle.objects.filter(subscription=sub, status=SubscriptionCycle.Status.FAILED).update(
        status=SubscriptionCycle.Status.ABANDONED, next_retry_on=None)


def end(sub: Subscription, status: str, *, actor, now, action: str) -> None:
    """Cancelled or Expired: nothing due any more, the customer type taken back."""
    before = state(sub)
    abandon_open_cycle(sub)
    sub.status, sub.ended_at, sub.due_at, sub.next_billing_date = status, now, None, None
    sub.cancel_at_period_end = False
    sub.save(update_fields=["status", "ended_at", "due_at", "next_billing_date", "cancel_at_period_end"])
    take_back_type(sub, actor=actor, now=now)
    audit(sub, action, actor, before, now)


def settings_of(account) -> SubscriptionSettings:
    """The account's settings (defaults until first saved; nothing written)."""
    return scoped(SubscriptionSettings, account).first() or SubscriptionSettings(account=account)
