"""Sequences the randomized run found, kept as regular tests (docs/reliability.md, "What it found")."""

import pytest

from tests.integrity.machine import MoneyMachine
from tests.integrity.test_money_integrity import _quick_retries  # noqa: F401 - the same quick retries

pytestmark = pytest.mark.django_db


def test_a_renewal_whose_answer_was_lost_leaves_no_unknown_payment_at_the_processor():
    """The long run's first sequence on the rate-limit change: both payees' adapters had become two
    objects, so reconciliation read the one sandbox processor twice, once as the platform's, and called the
    merchant's renewal there a payment we have no record of."""
    state = MoneyMachine()
    state.shop()
    state.money_is_right()
    state.subscription_cycle(days=31, declining=False, fault="timeout")
    state.money_is_right()
    state.teardown()
