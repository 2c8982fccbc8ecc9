"""E-mails to subscribers, rendered in the customer's language (the shop's when none is set) and the
shop's time zone, and queued in the outbox (accounts.services.email_queue) inside the caller's transaction."""

import logging
import zoneinfo

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.services import email_queue
from posbackoffice.errors import DomainError
from posbackoffice.money import format_money
from saved_cards import invites
from saved_cards.models import CardInvite

logger = logging.getLogger(__name__)


def _send(sub, subject_text: str, template: str, context: dict) -> None:
    account = sub.account
    language = sub.customer.language_or(account.language)
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(account.timezone)):
        subject = str(subject_text) % {"shop": account.name, "plan": sub.plan.name}
        context = {"shop": account.name, "first_name": sub.customer.first_name, "sub": sub,
                   "plan": sub.plan.name, "interval": sub.plan.get_interval_display(),
                   "duration": sub.plan.duration_intervals, **context}
        text = render_to_string(f"subscriptions/email/{template}.txt", context)
    email_queue(account=account, to=[sub.customer.email], subject=subject, text=text)


def queue_confirmation(sub) -> None:
    """The seed's confirmation: a subscription was created in the customer's name, the plan, its
    interval and its duration."""
    _send(sub, _("Your subscription to %(plan)s at %(shop)s"), "confirmation",
          {"start": sub.start_date})


def queue_reminder(sub, amount: int, day) -> None:
    """Beyond the seed: the renewal reminder, N days before the charge."""
    _send(sub, _("Your %(plan)s subscription renews soon"), "reminder",
          {"amount": format_money(amount, sub.account.currency), "day": day})


def queue_card_update(sub) -> None:
    """After a hard decline: the customer's secure card-update link (saved cards' e-mailed invitation)."""
    if not sub.customer.email:
        return
    try:
        with transaction.atomic():
            invites.card_invite_create(actor=None, account=sub.account, customer_id=sub.customer_id,
                                       kind=CardInvite.Kind.EMAIL)
    except DomainError as refused:
        logger.info("subscription %s: no card-update link sent (%s)", sub.pk, refused.code)
