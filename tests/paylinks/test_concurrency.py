"""Fifty pay attempts on one link at once (a double click, two tabs, retries, a script): exactly one payment."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from paylinks.models import PayLink
from payments.models import Payment
from tests.paylinks.builders import card, on_account_sale, online_shop, sent_link, token

ATTEMPTS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_attempts_at_once_make_exactly_one_payment(account):
    shop = online_shop(account)
    sale = on_account_sale(shop)
    link = sent_link(shop, sale)
    url = reverse("paylinks:pay_start", kwargs={"token": token(link)})
    methods = [card() for _ in range(ATTEMPTS)]
    start = threading.Barrier(ATTEMPTS)
    answers = [None] * ATTEMPTS

    def attempt(number):
        try:
            start.wait()
            response = Client(REMOTE_ADDR=f"10.0.0.{number}").post(
                url, {"payment_method_id": methods[number], "amount": "24,50"})
            answers[number] = (response.status_code, json.loads(response.content)["status"])
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(number,)) for number in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Payment.objects.filter(sale=sale).count() == 1
    assert Payment.objects.get(sale=sale).status == Payment.Status.SUCCEEDED
    assert sorted(status for _code, status in answers).count("succeeded") == 1
    assert all(code in (200, 422) for code, _status in answers)
    sale.refresh_from_db()
    assert sale.paid_total == 2450 and sale.customer.balance == 0
    assert PayLink.objects.get(pk=link.pk).status == PayLink.Status.COMPLETED
