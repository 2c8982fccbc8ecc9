"""The load of issue 13 as browsers make it: cashiers selling on the sell screen (htmx requests) and customers
paying pay links (the public page and the sandbox's card fields). Run by bench/load/run.py, which prepares the
database and writes the plan this file reads (LOAD_PLAN: a JSON file of cashiers, registers and links).

- Cashier (one per cashier in the plan, each with its own register): signs in once, chooses its register,
  then sells without end: 5 × "add a product" (htmx), then cash (the amount the pay form offers) or card
  (manual entry: the card page, the sandbox's card form and tokenizer, the charge, back to the sell screen),
  then "Complete sale". Between two clicks the cashier waits LOAD_THINK seconds (uniform ±50 %).
- Customer: opens a pay link, loads the card form, types a card (sandbox tokenizer), pays, sees the thank-you
  page; one link every LOAD_CUSTOMER_PACING seconds. Each customer has its own source address (127.0.0.x),
  as each phone has its own: the /pay/ pages are rate limited per address.

Every request is recorded (its kind, start time, duration, outcome) and written to LOAD_SAMPLES when the
run stops, so run.py computes its figures over the steady window only."""

import html
import itertools
import json
import os
import random
import re
import time

import gevent
from locust import HttpUser, between, constant_pacing, events, task
from locust.contrib.fasthttp import FastHttpUser
from requests.adapters import HTTPAdapter

PLAN = json.loads(open(os.environ["LOAD_PLAN"], encoding="utf-8").read())
THINK = float(os.environ.get("LOAD_THINK", "0.4"))
CUSTOMER_PACING = float(os.environ.get("LOAD_CUSTOMER_PACING", "6"))
HTMX = {"HX-Request": "true"}
CARD = {"number": "4242424242424242", "expiry": "12/34", "cvc": "123"}

_cashiers = iter(PLAN["cashiers"])
_links = iter(PLAN["links"])
_addresses = itertools.count(2)
SAMPLES: list[tuple] = []


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, start_time=None, **_):
    SAMPLES.append((name, start_time or time.time() - response_time / 1000, response_time, exception is None))


@events.quitting.add_listener
def _write(environment, **_):
    with open(os.environ["LOAD_SAMPLES"], "w", encoding="utf-8") as out:
        json.dump(SAMPLES, out)


def _think():
    gevent.sleep(random.uniform(THINK * 0.5, THINK * 1.5))


def _value(pattern: str, text: str, what: str) -> str:
    found = re.search(pattern, text)
    if found is None:
        raise AssertionError(f"{what} not in the page")
    return html.unescape(found.group(1))


def _csrf(text: str) -> str:
    return _value(r'name="csrfmiddlewaretoken" value="([^"]+)"', text, "CSRF token")


class Cashier(FastHttpUser):
    fixed_count = len(PLAN["cashiers"])
    wait_time = between(0, 0)  # the sale task paces itself, click by click

    # A sign-in hashes the password (about a second of CPU here); 50 at once on a busy machine queue for
    # minutes: the cashier waits for its answer rather than giving up, and signs in again if it failed.
    network_timeout = 600.0

    def on_start(self):
        me = next(_cashiers)
        self.register = me["register"]
        self.cash = PLAN["cash_type"]
        for _attempt in range(5):
            login = self.client.get("/login/", name="login page").text
            self.client.post(
                "/login/",
                data={"username": me["email"], "password": PLAN["password"], "csrfmiddlewaretoken": _csrf(login)},
                name="login",
            )
            picker = self.client.get("/sell/", name="sell screen").text
            header = re.search(r'"X-CSRFToken": "([^"]+)"', picker)
            if header is not None and "register-choice" in picker:  # signed in: the register picker
                break
        else:
            raise AssertionError(f"{me['email']} could not sign in")
        self.token = header.group(1)
        screen = self.client.post(
            "/sell/register/",
            data={"register": self.register},
            name="choose register",
            headers={"X-CSRFToken": self.token},
        ).text
        if 'id="pay-amount"' not in screen and "sell-cart" not in screen:
            raise AssertionError(f"register {self.register}: no sell screen after choosing it")
        self.rng = random.Random(self.register)

    def _htmx(self, path: str, data: dict, name: str, expect: str) -> str:
        with self.client.post(
            path, data=data, headers={**HTMX, "X-CSRFToken": self.token}, name=name, catch_response=True
        ) as response:
            if response.status_code != 200 or expect not in response.text:
                response.failure(f"{response.status_code}, {expect!r} not in the answer")
            return response.text or ""

    @task
    def sale(self):
        cart = ""
        for product in self.rng.sample(PLAN["products"], 5):
            cart = self._htmx(
                "/sell/lines/add/",
                {"product": product, "quantity": self.rng.randint(1, 3)},
                "sell: add a line",
                'id="pay-amount"',
            )
            _think()
        if self.rng.random() < PLAN["cash_share"]:
            amount = _value(r'id="pay-amount"[^>]* value="([^"]+)"', cart, "pay amount")
            self._htmx(
                "/sell/payments/", {"payment_type": self.cash, "amount": amount}, "sell: pay cash", "complete-form"
            )
        else:
            self._card()
        _think()
        self._htmx("/sell/complete/", {"receipt_email": ""}, "sell: complete", "sale-done")
        _think()

    def _card(self):
        page = self.client.get("/sell/card/", name="sell: card page").text
        amount = _value(r'name="amount"[^>]* value="([^"]+)"', page, "card amount")
        self.client.get("/sandbox/v1/card_form", name="sandbox: card form")
        _think()
        method = self.client.post("/sandbox/v1/payment_methods", data=CARD, name="sandbox: tokenize card").json()
        with self.client.post(
            "/sell/card/pay/",
            data={"amount": amount, "payment_method_id": method["id"]},
            headers={"X-CSRFToken": _csrf(page), "Accept": "application/json"},
            name="sell: card pay",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or response.json().get("status") != "succeeded":
                response.failure(f"{response.status_code} {response.text[:200]}")
        self.client.get("/sell/", name="sell screen")


class _SourceAddress(HTTPAdapter):
    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Customer(HttpUser):
    fixed_count = PLAN["customers"]
    wait_time = constant_pacing(CUSTOMER_PACING)

    def on_start(self):
        adapter = _SourceAddress(f"127.0.0.{next(_addresses)}")
        self.client.mount("http://", adapter)

    @task
    def pay(self):
        link = next(_links, None)
        if link is None:
            return
        url = f"/pay/{link}/"
        page = self.client.get(url, name="customer: pay page").text
        amount = _value(r'name="amount" value="([^"]+)"', page, "amount due")
        self.client.get("/sandbox/v1/card_form", name="sandbox: card form")
        _think()
        method = self.client.post("/sandbox/v1/payment_methods", data=CARD, name="sandbox: tokenize card").json()
        with self.client.post(
            url + "payments/",
            data={"amount": amount, "payment_method_id": method["id"]},
            headers={"X-CSRFToken": _csrf(page), "Accept": "application/json", "Referer": self.host + url},
            name="customer: pay",
            catch_response=True,
        ) as response:
            answer = response.json() if response.status_code == 200 else {}
            if answer.get("status") != "succeeded":
                response.failure(f"{response.status_code} {response.text[:200]}")
                return
        self.client.get(answer["redirect"], name="customer: paid page")
