"""The stripe adapter on recorded Stripe responses: the gateway contract's scenarios localstripe cannot
answer (each marked `adapter_cannot("stripe", covered_by=…)` in test_gateway_contract.py names its test
here), and what only a real processor does wrong: rate limits, 5xx, timeouts, a refused connection.

The adapter talks HTTP to RecordedStripe (recorded_stripe.py), which answers each request with the next
response of a recording (tests/payments/recorded/, see its README). The assertions are the contract's, in
the port's terms, plus what the adapter must send for Stripe to answer that way: the pinned API version,
the idempotency key as Stripe's Idempotency-Key header, and only ids (never card data).
"""

import datetime
import socket

import pytest
import stripe

from payments.gateway.base import PaymentStatus, SetupStatus
from payments.gateway.errors import (
    AuthenticationRequired,
    CardDeclined,
    ExpiredCard,
    GatewayError,
    IdempotencyConflict,
    IncorrectCvc,
    InsufficientFunds,
    InvalidRequest,
    ProcessorUnavailable,
)
from payments.gateway.stripe import API_VERSION, KEY_METADATA, StripeGateway
from payments.models import Payment
from payments.services.charges import charge_key, payment_charge, payment_create
from tests.payments.recorded_stripe import RecordedStripe

CUSTOMER = "cus_RfZk3Jd8Wq2mLp"
OTHER_CUSTOMER = "cus_RfZm9Tq0Xa4bNc"
CHARGE_KEY, PAYMENT_KEY = "contract-charge-recorded", "contract-payment-recorded"
REFUND_KEY = "contract-refund-recorded"
PAID = "pi_3RfZw1Lk8Hd7Qw3x3Pd4Rf5J"  # a €10.00 card payment


@pytest.fixture
def api():
    recorded = RecordedStripe()
    yield recorded
    recorded.close()
    assert recorded.problems == [] and recorded.pending == []


def gateway_on(api, timeout=(2, 5)) -> StripeGateway:
    return StripeGateway(secret_key="sk_test_recorded", publishable_key="pk_test_recorded", api_base=api.base_url,
                         timeout=timeout)


@pytest.fixture
def gateway(api):
    return gateway_on(api)


def charge(gateway, method="pm_1RfZy1Lk8Hd7Qw3xVisa4242", amount=2500, idempotency_key=CHARGE_KEY, **extra):
    return gateway.charge_saved_card(customer_id=CUSTOMER, payment_method_id=method, amount=amount, currency="EUR",
                                     idempotency_key=idempotency_key, **extra)


def pay(gateway, method="pm_1RfZz1Lk8Hd7Qw3xCnp04242", amount=1000, idempotency_key=PAYMENT_KEY):
    return gateway.create_card_payment(amount=amount, currency="EUR", payment_method_id=method,
                                       idempotency_key=idempotency_key)


def test_the_pinned_api_version_is_the_one_the_locked_sdk_describes():
    """Upgrading the SDK moves its types to a newer API version: read Stripe's changelog, then move the pin."""
    assert API_VERSION == stripe._api_version._ApiVersion.CURRENT


# ---- customers and cards --------------------------------------------------------------------------

def test_a_customer_created_again_with_its_key_is_stripes_replay(api, gateway):
    api.play("customer_created_twice")

    first = gateway.create_customer(email="a@example.test", name="A", idempotency_key="contract-customer-1")
    again = gateway.create_customer(email="a@example.test", name="A", idempotency_key="contract-customer-1")

    assert again == first and first.id == CUSTOMER
    assert [request.idempotency_key for request in api.requests] == ["contract-customer-1"] * 2
    assert all(request.headers["stripe-version"] == API_VERSION for request in api.requests)
    assert api.requests[0].fields == {"email": "a@example.test", "name": "A"}


def test_detaching_a_card_that_is_not_attached_is_refused(api, gateway):
    api.play("card_detached_twice")
    gateway.detach_card("pm_1RfZn2Lk8Hd7Qw3xYz4Ab5Cd")

    with pytest.raises(InvalidRequest):
        gateway.detach_card("pm_1RfZn2Lk8Hd7Qw3xYz4Ab5Cd")

    assert gateway.list_cards(CUSTOMER) == []
    assert api.requests[-1].fields == {"type": "card", "limit": "100"}


def test_a_setup_refused_by_the_cardholder_has_failed(api, gateway):
    api.play("setup_refused_by_the_cardholder")

    finished = gateway.finish_card_setup("seti_1RfZp7Lk8Hd7Qw3xAb1Cd2Ef")

    assert finished.status == SetupStatus.FAILED and finished.failure_code == "setup_intent_authentication_failure"
    assert gateway.list_cards(CUSTOMER) == []


def test_a_setup_declined_by_the_bank_has_failed_with_its_decline_code(api, gateway):
    api.play("setup_declined_by_the_bank")

    for setup_id, code in [("seti_1RfZq1Lk8Hd7Qw3xGenDecl1", "generic_decline"),
                           ("seti_1RfZq2Lk8Hd7Qw3xInsFund2", "insufficient_funds"),
                           ("seti_1RfZq3Lk8Hd7Qw3xExpCard3", "expired_card"),
                           ("seti_1RfZq4Lk8Hd7Qw3xBadCvc04", "incorrect_cvc")]:
        finished = gateway.finish_card_setup(setup_id)
        assert finished.status == SetupStatus.FAILED and finished.failure_code == code
        assert gateway.list_cards(CUSTOMER) == []


# ---- off-session charges --------------------------------------------------------------------------

def test_a_saved_mastercard_is_charged_off_session(api, gateway):
    api.play("mastercard_charged_off_session")

    payment = charge(gateway, "pm_1RfZr1Lk8Hd7Qw3xMa4Ster5", description="Abonnement", metadata={"payment": "7"})

    assert payment.status == PaymentStatus.SUCCEEDED
    assert (payment.amount, payment.currency, payment.amount_refunded) == (2500, "EUR", 0)
    assert (payment.customer_id, payment.payment_method_id) == (CUSTOMER, "pm_1RfZr1Lk8Hd7Qw3xMa4Ster5")
    assert (payment.card.brand, payment.card.last4) == ("mastercard", "4444")
    assert payment.metadata == {"payment": "7"}  # the adapter's own key stays out of the port
    assert gateway.retrieve_payment(payment.id) == payment
    sent = api.requests[0]
    assert sent.idempotency_key == CHARGE_KEY and sent.headers["stripe-version"] == API_VERSION
    assert sent.fields == {
        "amount": "2500", "currency": "eur", "customer": CUSTOMER, "payment_method": "pm_1RfZr1Lk8Hd7Qw3xMa4Ster5",
        "off_session": "true", "confirm": "true", "payment_method_types[0]": "card",
        "expand[0]": "payment_method", "expand[1]": "latest_charge", "description": "Abonnement",
        "metadata[payment]": "7", f"metadata[{KEY_METADATA}]": CHARGE_KEY,
    }
    assert api.requests[1].fields == {"expand[0]": "payment_method", "expand[1]": "latest_charge"}


def test_a_declined_charge_is_a_card_error_naming_its_payment(api, gateway):
    api.play("saved_card_declined_when_charged")

    with pytest.raises(CardDeclined) as refused:
        charge(gateway, "pm_1RfZs1Lk8Hd7Qw3xCh0341Xy")

    assert refused.value.decline_code == "generic_decline" and refused.value.payment_id == "pi_3RfZs1Lk8Hd7Qw3x1Dc2Lf3G"
    assert refused.value.message == "Your card was declined."
    failed = gateway.retrieve_payment(refused.value.payment_id)
    assert failed.status == PaymentStatus.REQUIRES_PAYMENT_METHOD and failed.failure_code == "generic_decline"


def test_an_off_session_charge_needing_authentication_fails(api, gateway):
    api.play("off_session_authentication_required")

    with pytest.raises(AuthenticationRequired) as refused:
        charge(gateway, "pm_1RfZt1Lk8Hd7Qw3xAu3155Yz")

    assert refused.value.decline_code == "authentication_required" and refused.value.payment_id
    failed = gateway.retrieve_payment(refused.value.payment_id)
    assert failed.status == PaymentStatus.REQUIRES_PAYMENT_METHOD and failed.failure_code == "authentication_required"


def test_charging_another_customers_card_is_refused(api, gateway):
    api.play("card_of_another_customer")

    with pytest.raises(InvalidRequest):
        gateway.charge_saved_card(customer_id=OTHER_CUSTOMER, payment_method_id="pm_1RfZu1Lk8Hd7Qw3xOwn3rAb1",
                                  amount=2500, currency="EUR", idempotency_key=CHARGE_KEY)


# ---- card-not-present payments --------------------------------------------------------------------

def test_a_card_payment_is_declined_with_its_decline_code(api, gateway):
    api.play("card_payments_declined")

    for n, (error, code, last4) in enumerate([(CardDeclined, "generic_decline", "0002"),
                                              (InsufficientFunds, "insufficient_funds", "9995"),
                                              (ExpiredCard, "expired_card", "0069"),
                                              (IncorrectCvc, "incorrect_cvc", "0127")], 1):
        with pytest.raises(error) as refused:
            pay(gateway, f"pm_1RfZv{n}Lk8Hd7Qw3xCnp{last4}", idempotency_key=f"{PAYMENT_KEY}-{n}")
        assert refused.value.decline_code == code and refused.value.payment_id
        failed = gateway.retrieve_payment(refused.value.payment_id)
        assert failed.status == PaymentStatus.REQUIRES_PAYMENT_METHOD and failed.failure_code == code
        assert failed.amount == 1000 and failed.card.last4 == last4
    created = api.requests[0].fields
    assert created["use_stripe_sdk"] == "true" and "customer" not in created and "off_session" not in created


def test_a_declined_payment_that_would_save_its_card_saves_none(api, gateway):
    api.play("card_payment_saving_declined")

    with pytest.raises(CardDeclined) as refused:
        gateway.create_card_payment(amount=1000, currency="EUR", payment_method_id="pm_1RfZs1Lk8Hd7Qw3xSav0002",
                                    idempotency_key=PAYMENT_KEY, customer_id=CUSTOMER, save_card=True)

    assert refused.value.decline_code == "generic_decline"
    assert gateway.list_cards(CUSTOMER) == []
    created = api.requests[0].fields
    assert created["customer"] == CUSTOMER and created["setup_future_usage"] == "off_session"


# ---- refunds --------------------------------------------------------------------------------------

def test_a_refund_above_what_remains_is_refused(api, gateway):
    api.play("refund_above_what_remains")

    with pytest.raises(InvalidRequest):
        gateway.refund(payment_id=PAID, amount=401, idempotency_key=REFUND_KEY)

    assert gateway.retrieve_payment(PAID).amount_refunded == 600


def test_a_refund_of_a_failed_payment_is_refused(api, gateway):
    api.play("refund_of_a_failed_payment")
    with pytest.raises(CardDeclined) as refused:
        pay(gateway, "pm_1RfZx1Lk8Hd7Qw3xFail0002")

    with pytest.raises(InvalidRequest):
        gateway.refund(payment_id=refused.value.payment_id, amount=100, idempotency_key=REFUND_KEY)

    assert gateway.retrieve_payment(refused.value.payment_id).amount_refunded == 0


# ---- listing (the reconciliation) -----------------------------------------------------------------

def test_payments_and_refunds_are_listed_since_a_date(api, gateway):
    api.play("payments_and_refunds_listed_since")
    since = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)

    payments = gateway.list_payments(created_since=since)
    refunds = gateway.list_refunds(created_since=since)

    assert [(payment.id, payment.amount, payment.amount_refunded, payment.status) for payment in payments] == [
        ("pi_3RgA11Lk8Hd7Qw3x0Lst1Aa1", 2500, 0, PaymentStatus.SUCCEEDED),
        ("pi_3RgA02Lk8Hd7Qw3x0Lst2Bb2", 1000, 300, PaymentStatus.SUCCEEDED)]
    assert payments[1].metadata == {"payment": "41", "account": "3"} and payments[1].created == 1796194800
    assert [(refund.id, refund.payment_id, refund.amount, refund.status) for refund in refunds] == [
        ("re_3RgA02Lk8Hd7Qw3x0Rfd1Cc3", "pi_3RgA02Lk8Hd7Qw3x0Lst2Bb2", 300, "succeeded")]
    first, second, listed_refunds = (request.fields for request in api.requests)
    assert first["created[gte]"] == str(int(since.timestamp())) == listed_refunds["created[gte]"]
    assert first["limit"] == "100" and first["expand[0]"] == "data.payment_method"
    assert second["starting_after"] == "pi_3RgA11Lk8Hd7Qw3x0Lst1Aa1"


# ---- idempotency ----------------------------------------------------------------------------------

def test_a_charge_sent_again_with_its_key_is_stripes_replay(api, gateway):
    api.play("charge_sent_twice")

    first, again = charge(gateway), charge(gateway)

    assert again == first and first.status == PaymentStatus.SUCCEEDED
    assert [request.idempotency_key for request in api.requests] == [CHARGE_KEY, CHARGE_KEY]
    assert api.requests[0].fields == api.requests[1].fields


def test_a_card_payment_sent_again_with_its_key_is_stripes_replay(api, gateway):
    api.play("card_payment_sent_twice")

    first, again = pay(gateway), pay(gateway)

    assert again == first and first.status == PaymentStatus.SUCCEEDED
    assert [request.idempotency_key for request in api.requests] == [PAYMENT_KEY, PAYMENT_KEY]


def test_a_declined_charge_sent_again_with_its_key_is_the_same_decline(api, gateway):
    api.play("declined_charge_sent_twice")

    with pytest.raises(CardDeclined) as first:
        charge(gateway, "pm_1RfZs1Lk8Hd7Qw3xCh0341Xy")
    with pytest.raises(CardDeclined) as again:
        charge(gateway, "pm_1RfZs1Lk8Hd7Qw3xCh0341Xy")

    assert again.value.payment_id == first.value.payment_id
    assert again.value.decline_code == first.value.decline_code == "generic_decline"


def test_a_refund_sent_again_with_its_key_is_stripes_replay(api, gateway):
    api.play("refund_sent_twice")

    first = gateway.refund(payment_id=PAID, amount=300, idempotency_key=REFUND_KEY, reason="Article abîmé")
    again = gateway.refund(payment_id=PAID, amount=300, idempotency_key=REFUND_KEY, reason="Article abîmé")

    assert again == first and (first.payment_id, first.amount, first.status) == (PAID, 300, "succeeded")
    assert gateway.retrieve_payment(PAID).amount_refunded == 300
    assert api.requests[0].idempotency_key == REFUND_KEY
    assert api.requests[0].fields == {"payment_intent": PAID, "amount": "300", "metadata[comment]": "Article abîmé"}


def test_the_same_key_with_other_parameters_is_a_conflict(api, gateway):
    api.play("charge_key_reused_for_another_amount")
    first = charge(gateway, amount=2500)

    with pytest.raises(IdempotencyConflict):
        charge(gateway, amount=2600)

    assert gateway.retrieve_payment(first.id).amount == 2500
    assert gateway.find_payment(idempotency_key=CHARGE_KEY).id == first.id


def test_a_refund_key_reused_for_another_amount_is_a_conflict(api, gateway):
    api.play("refund_key_reused_for_another_amount")
    gateway.refund(payment_id=PAID, amount=300, idempotency_key=REFUND_KEY)

    with pytest.raises(IdempotencyConflict):
        gateway.refund(payment_id=PAID, amount=400, idempotency_key=REFUND_KEY)

    assert gateway.retrieve_payment(PAID).amount_refunded == 300


def test_a_payment_is_found_by_its_key_with_stripes_search(api, gateway):
    api.play("payments_found_by_their_keys")

    charged = gateway.find_payment(idempotency_key=CHARGE_KEY)
    declined = gateway.find_payment(idempotency_key=PAYMENT_KEY)

    assert charged.status == PaymentStatus.SUCCEEDED and charged.amount == 2500 and charged.metadata == {}
    assert declined.status == PaymentStatus.REQUIRES_PAYMENT_METHOD and declined.failure_code == "generic_decline"
    assert gateway.find_payment(idempotency_key="never-used") is None
    assert api.requests[0].fields["query"] == f"metadata['{KEY_METADATA}']:'{CHARGE_KEY}'"
    assert api.requests[2].fields["query"] == f"metadata['{KEY_METADATA}']:'never-used'"


# ---- what only a real processor does ------------------------------------------------------------

def test_rate_limits_5xx_and_a_request_still_running_leave_the_outcome_unknown(api, gateway):
    api.play("unknown_outcomes")

    for said in ("Request rate limit exceeded.", "An unknown error occurred", "Stripe is temporarily unavailable.",
                 "There is currently another in-progress request"):  # 429, 500, 503, 409
        with pytest.raises(ProcessorUnavailable) as unknown:
            charge(gateway)
        assert unknown.value.message.startswith(said)
    assert [request.idempotency_key for request in api.requests] == [CHARGE_KEY] * 4


def test_an_answer_that_comes_too_late_leaves_the_outcome_unknown(api):
    api.play("slow_answer")
    impatient = gateway_on(api, timeout=(2, 0.3))

    with pytest.raises(ProcessorUnavailable):
        charge(impatient)


def test_a_processor_that_cannot_be_reached_leaves_the_outcome_unknown():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    nowhere = StripeGateway(secret_key="sk_test_recorded", publishable_key="pk_test_recorded",
                            api_base=f"http://127.0.0.1:{port}")

    with pytest.raises(ProcessorUnavailable):
        nowhere.retrieve_payment(PAID)


@pytest.mark.django_db
def test_a_charge_answered_503_is_sent_again_with_the_same_key_and_recorded_once(api, gateway, account, owner,
                                                                                  monkeypatch):
    """payments.services' retry on the stripe adapter: Stripe's 503, then the same request with the same key."""
    api.play("retried_after_503")
    monkeypatch.setattr("payments.services.attempts.get_gateway", lambda payee: gateway)
    monkeypatch.setattr("payments.services.attempts.RETRY_DELAYS", (0, 0))
    payment = payment_create(actor=owner, account=account, amount=1000, currency="EUR",
                             method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.INTEGRATED,
                             payment_method_id="pm_1RfZz1Lk8Hd7Qw3xCnp04242")

    payment = payment_charge(payment_id=payment.pk)

    assert payment.status == Payment.Status.SUCCEEDED and payment.processor == "stripe"
    assert payment.processor_payment_id == "pi_3RfZz1Lk8Hd7Qw3x6Cn7Pq8M" and payment.card_last4 == "4242"
    assert [request.idempotency_key for request in api.requests] == [charge_key(payment)] * 2
    assert api.requests[0].fields["metadata[payment]"] == str(payment.pk)


def test_a_refused_api_key_is_an_error_not_an_unknown_outcome(api, gateway):
    api.play("bad_api_key")

    with pytest.raises(GatewayError) as refused:
        charge(gateway)

    assert not isinstance(refused.value, ProcessorUnavailable)


def test_the_browser_gets_the_publishable_key_only(gateway):
    assert gateway.browser_config() == {"driver": "stripe", "publishable_key": "pk_test_recorded"}


# ---- Terminal (server-driven WisePOS E) -------------------------------------------------------------

TERMINAL_READER = "tmr_FDOt2wlRZEdpd7"


def test_a_card_present_payment_on_a_registered_reader(api, gateway):
    from payments.gateway.base import ReaderActionStatus

    api.play("terminal_reader_payment")
    location = gateway.create_terminal_location(display_name="Lyon", address={"line1": "1 rue de la Paix",
                                                "city": "Lyon", "country": "FR"}, idempotency_key="loc-1")
    reader = gateway.register_reader(registration_code="simulated-wpe", label="Caisse 1", location_id=location.id,
                                     idempotency_key="reader-1")
    assert (reader.id, reader.device_type, reader.status) == (TERMINAL_READER, "simulated_wisepos_e", "online")
    assert reader.last_seen_at is not None and reader.location_id == location.id

    intent = gateway.create_terminal_payment(amount=4900, currency="EUR", idempotency_key="payment-7-charge")
    assert intent.status == PaymentStatus.REQUIRES_PAYMENT_METHOD
    sent = gateway.process_payment_on_reader(reader_id=reader.id, payment_id=intent.id,
                                             idempotency_key="reader-action-3-process")
    assert (sent.action.type, sent.action.status, sent.action.payment_id) == (
        "process_payment_intent", ReaderActionStatus.IN_PROGRESS, intent.id)
    done = gateway.retrieve_reader(reader.id)
    assert done.action.status == ReaderActionStatus.SUCCEEDED
    paid = gateway.retrieve_payment(intent.id)
    assert paid.status == PaymentStatus.SUCCEEDED and paid.card.last4 == "4242"

    create, process = api.requests[2], api.requests[3]
    assert create.fields["payment_method_types[0]"] == "card_present"
    assert create.idempotency_key == "payment-7-charge" and process.idempotency_key == "reader-action-3-process"
    assert api.requests[1].fields["registration_code"] == "simulated-wpe"


def test_a_busy_or_offline_reader_and_an_unknown_code_are_our_errors(api, gateway):
    from payments.gateway.errors import ReaderBusy, ReaderOffline

    api.play("terminal_reader_refusals")
    with pytest.raises(ReaderBusy):
        gateway.process_payment_on_reader(reader_id=TERMINAL_READER, payment_id="pi_x", idempotency_key="k1")
    with pytest.raises(ReaderOffline):
        gateway.process_payment_on_reader(reader_id=TERMINAL_READER, payment_id="pi_x", idempotency_key="k2")
    with pytest.raises(InvalidRequest):
        gateway.register_reader(registration_code="bad-code", label="X", location_id="tml_x", idempotency_key="k3")


def test_collect_inputs_answers_the_typed_value_and_cancel_clears_the_action(api, gateway):
    api.play("terminal_collect_inputs")
    asked = gateway.collect_inputs_on_reader(reader_id=TERMINAL_READER, idempotency_key="reader-action-4-collect",
                                             inputs=[{"type": "numeric", "required": True,
                                                      "custom_text": {"title": "Total amount"}}])
    assert asked.action.type == "collect_inputs" and asked.action.status == "in_progress"
    answered = gateway.retrieve_reader(TERMINAL_READER)
    assert [(i.type, i.value, i.skipped) for i in answered.action.inputs] == [("numeric", "12.50", False)]
    assert gateway.cancel_reader_action(TERMINAL_READER).action is None
    assert api.requests[0].fields["inputs[0][type]"] == "numeric"


def test_a_card_declined_on_the_reader_fails_the_action_and_names_the_decline(api, gateway):
    from payments.gateway.base import ReaderActionStatus

    api.play("terminal_reader_declined")
    action = gateway.retrieve_reader(TERMINAL_READER).action
    assert (action.status, action.failure_code) == (ReaderActionStatus.FAILED, "card_declined")
    failed = gateway.retrieve_payment("pi_3RgTm1Lk8Hd7Qw3x0Tc1Ab2C")
    assert failed.status == PaymentStatus.REQUIRES_PAYMENT_METHOD and failed.failure_code == "generic_decline"


def test_a_reader_is_renamed_then_deleted(api, gateway):
    from payments.gateway.errors import NotFound

    api.play("terminal_reader_renamed_and_deleted")
    assert gateway.update_reader(TERMINAL_READER, label="Avant").label == "Avant"
    gateway.delete_reader(TERMINAL_READER)
    with pytest.raises(NotFound):
        gateway.retrieve_reader(TERMINAL_READER)
    assert api.requests[0].fields["label"] == "Avant"
