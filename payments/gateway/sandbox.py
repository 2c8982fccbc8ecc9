"""The sandbox adapter: the Gateway port on the offline sandbox processor (payments.sandbox), the
default for `make run` and most tests. It follows Stripe's documented test cards and idempotency
contract; the processor's state is in the payments_sandbox tables, so the web process, the Celery
worker and the tests all talk to the same processor.

Test cards (payments.sandbox.cards.TEST_CARDS), typed into the card-entry stand-in:
  4242424242424242, 5555555555554444 and any other number passing Luhn: succeed;
  4000000000000002: CardDeclined (generic_decline); 4000000000009995: InsufficientFunds;
  4000000000000069: ExpiredCard; 4000000000000127: IncorrectCvc (all four also fail a card setup);
  4000000000000341: saves fine, every charge is declined;
  4000002500003155 (and 4000002760003184): needs authentication: a browser payment or a card setup
  answers requires_action until the cardholder confirms; an off-session charge raises
  AuthenticationRequired.

Fault injection, for tests of what happens when the network between us and the processor fails:

    from payments.gateway import sandbox
    with sandbox.faults("after", operation="charge_saved_card") as plan:
        ...  # the next charge is recorded by the processor, then ProcessorUnavailable is raised
    assert plan.triggered == 1

"before" loses the request (the processor never sees it); "after" loses the answer (the processor did
the work and stored it under the idempotency key, so a retry with the same key returns it, and
find_payment finds it). `times=None` breaks every matching call while the block is open (a processor
down for longer than our retries). Plans are per process; nested blocks stack, the first matching open
plan is used. The processor's webhook events still go out for an answer lost "after" (Stripe would send
them too); wrap the block in `payments.sandbox.events.hold_events()` to hold them back.

A `faults()` block reaches only its own process. For runs with real worker processes
(bench/faults/processor_failures.py) the environment sets `SANDBOX_FAILURE_RATE` (0 to 1, 0 by default):
that share of the calls fails at random (`_random_failure`), each one way among a request lost "before"
(a 500), an answer lost "after" (a timeout) and a rate limit (a 429, nothing done), all three raising
ProcessorUnavailable as the Stripe adapter does; `SANDBOX_FAILURE_SEED` makes each process's sequence
the same on every run.
"""

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse

from payments.gateway import objects
from payments.gateway.base import (
    OPERATIONS,
    CardSetup,
    ProcessorCustomer,
    ProcessorPayment,
    ProcessorRefund,
    SavedCard,
    TerminalLocation,
    TerminalReader,
)
from payments.gateway.errors import GatewayError, ProcessorUnavailable
from payments.gateway.pacing import RateWindow
from payments.sandbox import services, terminal
from payments.sandbox.events import hold_events  # noqa: F401 - re-exported for tests

logger = logging.getLogger(__name__)

BEFORE, AFTER = "before", "after"
RATE_LIMITED = "rate_limited"


@dataclass
class FaultPlan:
    when: str  # "before": the request is lost; "after": the answer is lost
    operation: str | None = None  # a Gateway method name; None: any operation
    times: int | None = 1  # None: every matching call while the block is open
    triggered: int = 0
    broken: list[str] = field(default_factory=list)  # the operations it broke, in order

    def _matches(self, when: str, operation: str) -> bool:
        return (self.when == when and self.operation in (None, operation)
                and (self.times is None or self.triggered < self.times))


_plans: list[FaultPlan] = []
_plans_lock = threading.Lock()


@contextmanager
def faults(when: str = AFTER, *, operation: str | None = None, times: int | None = 1):
    """Make the next `times` matching sandbox calls raise ProcessorUnavailable, before the processor
    records anything (`when="before"`) or after it did (`when="after"`)."""
    if when not in (BEFORE, AFTER):
        raise ValueError(f"when must be {BEFORE!r} or {AFTER!r}, not {when!r}")
    if operation is not None and operation not in OPERATIONS:
        raise ValueError(f"unknown gateway operation {operation!r}; one of {sorted(OPERATIONS)}")
    if times is not None and times < 1:
        raise ValueError("times must be at least 1, or None")
    plan = FaultPlan(when=when, operation=operation, times=times)
    with _plans_lock:
        _plans.append(plan)
    try:
        yield plan
    finally:
        with _plans_lock:
            _plans.remove(plan)


def _take_fault(when: str, operation: str) -> bool:
    with _plans_lock:
        for plan in _plans:
            if plan._matches(when, operation):
                plan.triggered += 1
                plan.broken.append(operation)
                return True
    return False


def _lost(when: str, operation: str) -> ProcessorUnavailable:
    if when == BEFORE:
        return ProcessorUnavailable(f"sandbox fault: the {operation} request was lost before the processor saw it")
    return ProcessorUnavailable(f"sandbox fault: the processor answered {operation}, but the answer was lost")


def _like_a_live_processor(operation: str) -> None:
    """SANDBOX_LATENCY_MS and SANDBOX_RATE_LIMIT (0 by default: off) make the sandbox answer like a live
    processor over the network, for the benchmarks: each request takes that long, and above that many
    requests a second (counted across processes, as Stripe counts per account) it is refused with a 429
    before the processor records anything (ProcessorUnavailable RATE_LIMITED: retried with the same key)."""
    if settings.SANDBOX_RATE_LIMIT and not _sandbox_window().try_take():
        raise _rate_limited(operation)
    if settings.SANDBOX_LATENCY_MS:
        time.sleep(settings.SANDBOX_LATENCY_MS / 1000)


def _sandbox_window() -> RateWindow:
    return RateWindow("sandbox-processor", settings.SANDBOX_RATE_LIMIT)
_generator_lock = threading.Lock()
_generator: dict = {"key": None, "random": None}


def _random_failure(operation: str) -> str | None:
    """With probability SANDBOX_FAILURE_RATE, how this call of `operation` fails: BEFORE, AFTER or
    RATE_LIMITED, one of the three at random (logged, so that a fault run counts them); None (always, at
    the default rate 0) otherwise. A generator per process (made again after a fork, so prefork children
    do not share one sequence), seeded with SANDBOX_FAILURE_SEED when it is set."""
    rate = settings.SANDBOX_FAILURE_RATE
    if not rate:
        return None
    key = (os.getpid(), settings.SANDBOX_FAILURE_SEED)
    with _generator_lock:
        if _generator["key"] != key:
            seed = settings.SANDBOX_FAILURE_SEED
            # Fault injection for tests and benchmarks, not a secret.
            _generator.update(key=key, random=random.Random(seed) if seed else random.Random())  # nosec B311
        draw = _generator["random"]
        if draw.random() >= rate:
            return None
        failure = draw.choice((BEFORE, AFTER, RATE_LIMITED))
    logger.warning("sandbox fault injected: %s %s", failure, operation)
    return failure


def _rate_limited(operation: str) -> ProcessorUnavailable:
    return ProcessorUnavailable(f"sandbox: the {operation} request was refused, too many requests",
                                code=RATE_LIMITED)


def _url_template(name: str) -> str:
    placeholder = "sbxidplaceholder"
    return reverse(name, kwargs={"intent_id": placeholder}).replace(placeholder, "{id}")


class SandboxGateway:
    """The Gateway port on the sandbox processor. Stateless: everything is in the database."""

    name = "sandbox"

    def _call(self, operation: str, run: Callable):
        _like_a_live_processor(operation)
        failure = _random_failure(operation)
        if failure == RATE_LIMITED:
            raise _rate_limited(operation)
        if failure == BEFORE or _take_fault(BEFORE, operation):
            raise _lost(BEFORE, operation)
        try:
            result = run()
        except GatewayError:
            if failure == AFTER or _take_fault(AFTER, operation):
                raise _lost(AFTER, operation) from None
            raise
        if failure == AFTER or _take_fault(AFTER, operation):
            raise _lost(AFTER, operation)
        return result

    # Customers
    def create_customer(self, *, email: str, name: str, idempotency_key: str,
                        metadata: dict | None = None) -> ProcessorCustomer:
        return self._call("create_customer", lambda: objects.customer(services.customer_create(
            email=email, name=name, metadata=metadata, idempotency_key=idempotency_key)))

    def update_customer(self, customer_id: str, *, email: str, name: str) -> ProcessorCustomer:
        return self._call("update_customer", lambda: objects.customer(services.customer_update(
            customer_id=customer_id, email=email, name=name)))

    # Saving a card
    def start_card_setup(self, *, customer_id: str, idempotency_key: str, metadata: dict | None = None) -> CardSetup:
        return self._call("start_card_setup", lambda: objects.card_setup(services.setup_intent_create(
            customer_id=customer_id, metadata=metadata, idempotency_key=idempotency_key)))

    def finish_card_setup(self, setup_id: str) -> CardSetup:
        return self._call("finish_card_setup", lambda: objects.card_setup(
            services.setup_intent_retrieve(setup_id=setup_id)))

    def list_cards(self, customer_id: str) -> list[SavedCard]:
        return self._call("list_cards", lambda: [
            objects.saved_card(method) for method in services.payment_method_list(customer_id=customer_id)])

    def get_card(self, payment_method_id: str) -> SavedCard:
        return self._call("get_card", lambda: objects.saved_card(
            services.payment_method_retrieve(payment_method_id=payment_method_id)))

    def detach_card(self, payment_method_id: str) -> None:
        self._call("detach_card", lambda: services.payment_method_detach(payment_method_id=payment_method_id))

    # Charges
    def charge_saved_card(self, *, customer_id: str, payment_method_id: str, amount: int, currency: str,
                          idempotency_key: str, description: str = "",
                          metadata: dict | None = None) -> ProcessorPayment:
        return self._call("charge_saved_card", lambda: objects.payment(services.payment_intent_create(
            amount=amount, currency=currency, payment_method_id=payment_method_id, customer_id=customer_id,
            off_session=True, description=description, metadata=metadata, idempotency_key=idempotency_key)))

    def create_card_payment(self, *, amount: int, currency: str, payment_method_id: str, idempotency_key: str,
                            description: str = "", metadata: dict | None = None, customer_id: str = "",
                            save_card: bool = False) -> ProcessorPayment:
        return self._call("create_card_payment", lambda: objects.payment(services.payment_intent_create(
            amount=amount, currency=currency, payment_method_id=payment_method_id, customer_id=customer_id,
            off_session=False, setup_future_usage="off_session" if save_card else "", description=description,
            metadata=metadata, idempotency_key=idempotency_key)))

    def retrieve_payment(self, payment_id: str) -> ProcessorPayment:
        return self._call("retrieve_payment", lambda: objects.payment(
            services.payment_intent_retrieve(payment_intent_id=payment_id)))

    def cancel_payment(self, payment_id: str) -> ProcessorPayment:
        return self._call("cancel_payment", lambda: objects.payment(
            services.payment_intent_cancel(payment_intent_id=payment_id)))

    def find_payment(self, *, idempotency_key: str) -> ProcessorPayment | None:
        def run():
            found = services.payment_intent_find(idempotency_key=idempotency_key)
            return objects.payment(found) if found else None

        return self._call("find_payment", run)

    def refund(self, *, payment_id: str, amount: int, idempotency_key: str, reason: str = "") -> ProcessorRefund:
        return self._call("refund", lambda: objects.refund(services.refund_create(
            payment_intent_id=payment_id, amount=amount, reason=reason, idempotency_key=idempotency_key)))

    # Listing
    def list_payments(self, *, created_since=None) -> list[ProcessorPayment]:
        return self._call("list_payments", lambda: [
            objects.payment(intent) for intent in services.payment_intent_list(created_since=created_since)])

    def list_refunds(self, *, created_since=None) -> list[ProcessorRefund]:
        return self._call("list_refunds", lambda: [
            objects.refund(refund) for refund in services.refund_list(created_since=created_since)])

    # Terminal
    def create_terminal_location(self, *, display_name: str, address: dict, idempotency_key: str,
                                 metadata: dict | None = None) -> TerminalLocation:
        return self._call("create_terminal_location", lambda: objects.location(terminal.location_create(
            display_name=display_name, address=address, metadata=metadata, idempotency_key=idempotency_key)))

    def register_reader(self, *, registration_code: str, label: str, location_id: str, idempotency_key: str,
                        metadata: dict | None = None) -> TerminalReader:
        return self._call("register_reader", lambda: objects.reader(terminal.reader_create(
            registration_code=registration_code, label=label, location_id=location_id, metadata=metadata,
            idempotency_key=idempotency_key)))

    def retrieve_reader(self, reader_id: str) -> TerminalReader:
        return self._call("retrieve_reader", lambda: objects.reader(terminal.reader_retrieve(reader_id=reader_id)))

    def update_reader(self, reader_id: str, *, label: str) -> TerminalReader:
        return self._call("update_reader", lambda: objects.reader(terminal.reader_update(
            reader_id=reader_id, label=label)))

    def delete_reader(self, reader_id: str) -> None:
        self._call("delete_reader", lambda: terminal.reader_delete(reader_id=reader_id))

    def create_terminal_payment(self, *, amount: int, currency: str, idempotency_key: str, description: str = "",
                                metadata: dict | None = None) -> ProcessorPayment:
        return self._call("create_terminal_payment", lambda: objects.payment(terminal.card_present_intent_create(
            amount=amount, currency=currency, description=description, metadata=metadata,
            idempotency_key=idempotency_key)))

    def process_payment_on_reader(self, *, reader_id: str, payment_id: str, idempotency_key: str) -> TerminalReader:
        return self._call("process_payment_on_reader", lambda: objects.reader(terminal.reader_process_payment_intent(
            reader_id=reader_id, payment_intent_id=payment_id, idempotency_key=idempotency_key)))

    def collect_inputs_on_reader(self, *, reader_id: str, inputs: list[dict], idempotency_key: str,
                                 metadata: dict | None = None) -> TerminalReader:
        return self._call("collect_inputs_on_reader", lambda: objects.reader(terminal.reader_collect_inputs(
            reader_id=reader_id, inputs=inputs, metadata=metadata, idempotency_key=idempotency_key)))

    def cancel_reader_action(self, reader_id: str) -> TerminalReader:
        return self._call("cancel_reader_action", lambda: objects.reader(terminal.reader_cancel_action(
            reader_id=reader_id)))

    # Browser
    def browser_config(self) -> dict:
        """For the card-entry stand-in (static/js/card_sandbox.js), rendered as data- attributes:
        the card form to load, the tokenizer, and where the browser confirms a payment or a setup
        (`{id}` is the intent id, the part of its client secret before "_secret_")."""
        return {
            "driver": self.name,
            "form_url": reverse("payments_sandbox:card_form"),
            "tokenize_url": reverse("payments_sandbox:payment_methods"),
            "confirm_url_template": _url_template("payments_sandbox:payment_intent_confirm"),
            "setup_confirm_url_template": _url_template("payments_sandbox:setup_intent_confirm"),
        }
