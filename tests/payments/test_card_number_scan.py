"""The scan the browser journeys end with finds a card number wherever one would have been kept."""

import pytest

from tests.browser.card_numbers import found_in_database, found_in_logs
from tests.retail.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_scan_finds_a_card_number_in_any_text_column(account):
    assert found_in_database() == []
    CustomerFactory(account=account, notes="carte 4242 4242 4242 4242 exp 12/34")

    assert found_in_database() == ["retail_customer.notes: carte 4242 4242 4242 4242 exp 12/34"]


def test_the_scan_finds_card_numbers_and_cvcs_in_log_lines():
    assert found_in_logs(["POST /sandbox/v1/payment_methods 200", "payment pm_sbx_x succeeded"]) == []
    assert found_in_logs(["number=4000000000000002"]) and found_in_logs(["{'cvc': '123'}"])
