"""The stripe adapter: the Gateway port on Stripe's API, through the official SDK's StripeClient.

- API version pinned (API_VERSION, the one the locked SDK is generated for: its types describe exactly
  that version); the base address comes from STRIPE_API_BASE so tests can point it at localstripe or
  at a stub serving recorded responses.
- Timeouts are short enough for a cashier (CONNECT/READ_TIMEOUT_SECONDS) and the SDK does not retry by
  itself: payments.services owns the retries, always with the same idempotency key.
- Only ids travel from us: card numbers and CVCs go from Stripe.js straight to Stripe
  (static/js/card_stripe.js); our requests carry payment method ids, amounts and our metadata.
- Every SDK error becomes one of payments.gateway.errors (`gateway_error`).
- Each PaymentIntent carries the idempotency key it was created with in its metadata
  (KEY_METADATA), so `find_payment` can look it up with Stripe's search after a lost answer. Search
  is eventually consistent (usually under a minute): reconciliation only looks at attempts older than
  that, and if search has not caught up it sends the request again with the same key, which Stripe
  answers with the first result; a charge is never made twice either way.
"""

import dataclasses

import stripe

from payments.gateway import objects
from payments.gateway.base import (
    CardSetup,
    ProcessorCustomer,
    ProcessorPayment,
    ProcessorRefund,
    SavedCard,
    TerminalLocation,
    TerminalReader,
)
from payments.gateway.errors import (
    AuthenticationRequired,
    CardDeclined,
    ExpiredCard,
    GatewayError,
    IdempotencyConflict,
    IncorrectCvc,
    InsufficientFunds,
    InvalidRequest,
    NotFound,
    ProcessorUnavailable,
    ReaderBusy,
    ReaderOffline,
    ReaderTimeout,
)

API_VERSION = "2026-10-28.endive"
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 25
KEY_METADATA = "idempotency_key"
_HIDDEN_METADATA = frozenset({KEY_METADATA})
_PAYMENT_EXPAND = ["payment_method", "latest_charge"]

# A card error's decline code (or, failing that, its code) -> ours; any other refusal is CardDeclined.
_CARD_ERRORS = {
    "insufficient_funds": InsufficientFunds,
    "expired_card": ExpiredCard,
    "incorrect_cvc": IncorrectCvc,
    "authentication_required": AuthenticationRequired,
}
# Terminal's request errors about the reader itself (the SDK's error code enum).
_READER_ERRORS = {"terminal_reader_busy": ReaderBusy, "terminal_reader_offline": ReaderOffline,
                  "terminal_reader_timeout": ReaderTimeout}
# Stripe's refund statuses -> the port's (succeeded, pending, failed).
_REFUND_STATUS = {"requires_action": "pending", "canceled": "failed"}


def gateway_error(error: stripe.StripeError) -> GatewayError:
    """What an SDK error means for us. The processor's English message stays on the error (`message`), never
    in its text: it may echo what was sent."""
    body = error.json_body.get("error") if isinstance(error.json_body, dict) else None
    body = body if isinstance(body, dict) else {}
    message = body.get("message") or error.user_message or ""
    code = body.get("code") or ""
    intent = body.get("payment_intent")
    payment_id = (intent.get("id") if isinstance(intent, dict) else intent) or ""
    if isinstance(error, stripe.CardError):
        decline_code = body.get("decline_code") or code
        error_class = _CARD_ERRORS.get(decline_code) or _CARD_ERRORS.get(code) or CardDeclined
        return error_class(message, decline_code=decline_code, payment_id=payment_id)
    if code in _READER_ERRORS:
        return _READER_ERRORS[code](message)
    if isinstance(error, stripe.IdempotencyError):
        return IdempotencyConflict(message)
    if isinstance(error, (stripe.APIConnectionError, stripe.RateLimitError)):
        return ProcessorUnavailable(message)
    if isinstance(error, stripe.InvalidRequestError):
        if code == "resource_missing" or error.http_status == 404:
            return NotFound(message)
        return InvalidRequest(message, payment_id=payment_id)
    status = error.http_status
    if isinstance(error, stripe.APIError) and (status is None or status >= 500 or status == 409):
        # A 5xx, or 409: a request with the same key is still running. The outcome is unknown.
        return ProcessorUnavailable(message)
    return GatewayError(message)  # authentication or permission: our configuration, nothing happened


def _search_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class StripeGateway:
    name = "stripe"

    def __init__(self, *, secret_key: str, publishable_key: str, api_base: str = stripe.DEFAULT_API_BASE,
                 timeout: tuple[float, float] = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)):
        self.publishable_key = publishable_key
        self._stripe = stripe.StripeClient(
            secret_key, stripe_version=API_VERSION, base_addresses={"api": api_base}, max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout))

    @property
    def _v1(self):
        return self._stripe.v1

    @staticmethod
    def _send(request) -> dict:
        try:
            return request().to_dict()
        except stripe.StripeError as error:
            raise gateway_error(error) from None  # unchained: the SDK error's text may echo input

    @staticmethod
    def _key(idempotency_key: str) -> dict:
        return {"idempotency_key": idempotency_key}

    # Customers
    def create_customer(self, *, email: str, name: str, idempotency_key: str,
                        metadata: dict | None = None) -> ProcessorCustomer:
        params = {key: value for key, value in (("email", email), ("name", name), ("metadata", metadata)) if value}
        return objects.customer(self._send(lambda: self._v1.customers.create(
            params=params, options=self._key(idempotency_key))))

    def update_customer(self, customer_id: str, *, email: str, name: str) -> ProcessorCustomer:
        return objects.customer(self._send(lambda: self._v1.customers.update(
            customer_id, params={"email": email or "", "name": name or ""})))

    # Saving a card: Stripe.js confirms the SetupIntent in the browser (confirmCardSetup)
    def start_card_setup(self, *, customer_id: str, idempotency_key: str, metadata: dict | None = None) -> CardSetup:
        params = {"customer": customer_id, "usage": "off_session", "payment_method_types": ["card"]}
        if metadata:
            params["metadata"] = metadata
        return objects.card_setup(self._send(lambda: self._v1.setup_intents.create(
            params=params, options=self._key(idempotency_key))))

    def finish_card_setup(self, setup_id: str) -> CardSetup:
        return objects.card_setup(self._send(lambda: self._v1.setup_intents.retrieve(setup_id)))

    def list_cards(self, customer_id: str) -> list[SavedCard]:
        def request():
            listed = self._v1.customers.payment_methods.list(customer_id, params={"type": "card", "limit": 100})
            return listed.auto_paging_iter()

        try:
            return [objects.saved_card(method.to_dict()) for method in request()]
        except stripe.StripeError as error:
            raise gateway_error(error) from None  # unchained: the SDK error's text may echo input

    def get_card(self, payment_method_id: str) -> SavedCard:
        return objects.saved_card(self._send(lambda: self._v1.payment_methods.retrieve(payment_method_id)))

    def detach_card(self, payment_method_id: str) -> None:
        self._send(lambda: self._v1.payment_methods.detach(payment_method_id))

    # Charges
    def _create_payment(self, params: dict, *, idempotency_key: str, description: str,
                        metadata: dict | None) -> ProcessorPayment:
        params = {**params, "confirm": True, "payment_method_types": ["card"], "expand": _PAYMENT_EXPAND,
                  "metadata": {**(metadata or {}), KEY_METADATA: idempotency_key}}
        if description:
            params["description"] = description
        return objects.payment(self._send(lambda: self._v1.payment_intents.create(
            params=params, options=self._key(idempotency_key))), hidden_metadata=_HIDDEN_METADATA)

    def charge_saved_card(self, *, customer_id: str, payment_method_id: str, amount: int, currency: str,
                          idempotency_key: str, description: str = "",
                          metadata: dict | None = None) -> ProcessorPayment:
        return self._create_payment(
            {"amount": amount, "currency": currency.lower(), "customer": customer_id,
             "payment_method": payment_method_id, "off_session": True},
            idempotency_key=idempotency_key, description=description, metadata=metadata)

    def create_card_payment(self, *, amount: int, currency: str, payment_method_id: str, idempotency_key: str,
                            description: str = "", metadata: dict | None = None, customer_id: str = "",
                            save_card: bool = False) -> ProcessorPayment:
        if save_card and not customer_id:
            raise InvalidRequest("A card can only be saved to a customer.")
        # use_stripe_sdk: a bank's question comes back as a next action Stripe.js handles in the page.
        params = {"amount": amount, "currency": currency.lower(), "payment_method": payment_method_id,
                  "use_stripe_sdk": True}
        if customer_id:
            params["customer"] = customer_id
        if save_card:
            # Stripe attaches the card to the customer once the payment succeeds, ready for off-session use.
            params["setup_future_usage"] = "off_session"
        return self._create_payment(params, idempotency_key=idempotency_key, description=description,
                                    metadata=metadata)

    def retrieve_payment(self, payment_id: str) -> ProcessorPayment:
        return objects.payment(self._send(lambda: self._v1.payment_intents.retrieve(
            payment_id, params={"expand": _PAYMENT_EXPAND})), hidden_metadata=_HIDDEN_METADATA)

    def cancel_payment(self, payment_id: str) -> ProcessorPayment:
        return objects.payment(self._send(lambda: self._v1.payment_intents.cancel(
            payment_id, params={"expand": _PAYMENT_EXPAND})), hidden_metadata=_HIDDEN_METADATA)

    def find_payment(self, *, idempotency_key: str) -> ProcessorPayment | None:
        found = self._send(lambda: self._v1.payment_intents.search(params={
            "query": f"metadata[{_search_literal(KEY_METADATA)}]:{_search_literal(idempotency_key)}",
            "limit": 10, "expand": [f"data.{field}" for field in _PAYMENT_EXPAND]}))
        intents = sorted(found.get("data") or [], key=lambda intent: (intent.get("created") or 0, intent["id"]))
        return objects.payment(intents[0], hidden_metadata=_HIDDEN_METADATA) if intents else None

    def refund(self, *, payment_id: str, amount: int, idempotency_key: str, reason: str = "") -> ProcessorRefund:
        params = {"payment_intent": payment_id, "amount": amount}
        if reason:  # Stripe's `reason` is a fixed list; the person's comment goes in the metadata
            params["metadata"] = {"comment": reason[:500]}
        refunded = objects.refund(self._send(lambda: self._v1.refunds.create(
            params=params, options=self._key(idempotency_key))))
        return dataclasses.replace(refunded, status=_REFUND_STATUS.get(refunded.status, refunded.status))

    # Listing: every page (the SDK's auto-paging), newest first, 100 a page
    def _list_all(self, resource, params: dict) -> list[dict]:
        try:
            return [item.to_dict() for item in resource.list(params=params).auto_paging_iter()]
        except stripe.StripeError as error:
            raise gateway_error(error) from None  # unchained: the SDK error's text may echo input

    @staticmethod
    def _since(params: dict, created_since) -> dict:
        return {**params, "created": {"gte": int(created_since.timestamp())}} if created_since is not None else params

    def list_payments(self, *, created_since=None) -> list[ProcessorPayment]:
        params = self._since({"limit": 100, "expand": [f"data.{field}" for field in _PAYMENT_EXPAND]}, created_since)
        return [objects.payment(intent, hidden_metadata=_HIDDEN_METADATA)
                for intent in self._list_all(self._v1.payment_intents, params)]

    def list_refunds(self, *, created_since=None) -> list[ProcessorRefund]:
        return [dataclasses.replace(refund, status=_REFUND_STATUS.get(refund.status, refund.status))
                for refund in map(objects.refund, self._list_all(self._v1.refunds, self._since({"limit": 100},
                                                                                              created_since)))]

    # Terminal
    def create_terminal_location(self, *, display_name: str, address: dict, idempotency_key: str,
                                 metadata: dict | None = None) -> TerminalLocation:
        params = {"display_name": display_name, "address": address}
        if metadata:
            params["metadata"] = metadata
        return objects.location(self._send(lambda: self._v1.terminal.locations.create(
            params=params, options=self._key(idempotency_key))))

    def register_reader(self, *, registration_code: str, label: str, location_id: str, idempotency_key: str,
                        metadata: dict | None = None) -> TerminalReader:
        params = {"registration_code": registration_code, "label": label, "location": location_id}
        if metadata:
            params["metadata"] = metadata
        return objects.reader(self._send(lambda: self._v1.terminal.readers.create(
            params=params, options=self._key(idempotency_key))))

    def retrieve_reader(self, reader_id: str) -> TerminalReader:
        return objects.reader(self._send(lambda: self._v1.terminal.readers.retrieve(reader_id)))

    def update_reader(self, reader_id: str, *, label: str) -> TerminalReader:
        return objects.reader(self._send(lambda: self._v1.terminal.readers.update(
            reader_id, params={"label": label})))

    def delete_reader(self, reader_id: str) -> None:
        self._send(lambda: self._v1.terminal.readers.delete(reader_id))

    def create_terminal_payment(self, *, amount: int, currency: str, idempotency_key: str, description: str = "",
                                metadata: dict | None = None) -> ProcessorPayment:
        params = {"amount": amount, "currency": currency.lower(), "payment_method_types": ["card_present"],
                  "capture_method": "automatic", "expand": _PAYMENT_EXPAND,
                  "metadata": {**(metadata or {}), KEY_METADATA: idempotency_key}}
        if description:
            params["description"] = description
        return objects.payment(self._send(lambda: self._v1.payment_intents.create(
            params=params, options=self._key(idempotency_key))), hidden_metadata=_HIDDEN_METADATA)

    def process_payment_on_reader(self, *, reader_id: str, payment_id: str, idempotency_key: str) -> TerminalReader:
        return objects.reader(self._send(lambda: self._v1.terminal.readers.process_payment_intent(
            reader_id, params={"payment_intent": payment_id}, options=self._key(idempotency_key))))

    def collect_inputs_on_reader(self, *, reader_id: str, inputs: list[dict], idempotency_key: str,
                                 metadata: dict | None = None) -> TerminalReader:
        params = {"inputs": inputs}
        if metadata:
            params["metadata"] = metadata
        return objects.reader(self._send(lambda: self._v1.terminal.readers.collect_inputs(
            reader_id, params=params, options=self._key(idempotency_key))))

    def cancel_reader_action(self, reader_id: str) -> TerminalReader:
        return objects.reader(self._send(lambda: self._v1.terminal.readers.cancel_action(reader_id)))

    # Browser
    def browser_config(self) -> dict:
        """For static/js/card_stripe.js (Stripe Elements), rendered as data- attributes."""
        return {"driver": self.name, "publishable_key": self.publishable_key}
