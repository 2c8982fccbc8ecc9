"""localstripe (a fake Stripe API server from PyPI) as the test session runs it for the stripe
adapter's contract scenarios: `python tests/payments/localstripe_server.py` binds 127.0.0.1 on a port
the system picks, prints that port on its first line, and serves until it is terminated.

What changes from `localstripe --port N`, and why:
- it listens on 127.0.0.1 only (the command binds every interface, IPv6 included) and on a free port, so
  sessions running side by side on one machine never meet;
- its store stays in memory: the command reloads and rewrites /tmp/localstripe.pickle, a file shared by
  every localstripe on the machine and rewritten whole on each change. Each session starts empty.

Four gaps on the happy path are filled with what Stripe's API reference documents, so that the adapter's
ordinary requests are taken at all:
- a PaymentIntent accepts `description` (kept and shown) and `use_stripe_sdk` (localstripe's
  next_action is already the Stripe.js kind);
- a PaymentIntent accepts `setup_future_usage` and, once it succeeds, attaches its payment method to
  its customer (Stripe: "saves the payment method to the customer after the payment succeeds");
- `GET /v1/customers/{id}/payment_methods` ("List a Customer's PaymentMethods", the call Stripe asks
  integrations to use) answers like localstripe's own `GET /v1/payment_methods?customer=…`;
- a SetupIntent that succeeds attaches its payment method to its customer, as Stripe does.
Everything else is localstripe's own behaviour. What it cannot do (decline codes, idempotency, off-session
authentication, refund limits, search...) is not patched in: the contract scenarios that need it are
marked `adapter_cannot("stripe", ...)` and covered by recorded Stripe responses (test_stripe_recorded.py).
"""

import socket
import sys

from aiohttp import web
from localstripe import resources


def _keep_the_store_in_memory() -> None:
    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None


def _payment_intents_take_description() -> None:
    original = resources.PaymentIntent.__init__

    def __init__(self, description=None, use_stripe_sdk=None, setup_future_usage=None, **params):
        original(self, **params)
        self.description = description
        self.setup_future_usage = setup_future_usage

    resources.PaymentIntent.__init__ = __init__


def _payment_intents_save_their_card() -> None:
    succeeded = resources.PaymentIntent._on_success

    def _on_success(self):
        if getattr(self, "setup_future_usage", None) and self.customer and self.payment_method:
            resources.PaymentMethod._api_retrieve(self.payment_method).customer = self.customer
        succeeded(self)

    resources.PaymentIntent._on_success = _on_success


def _customer_payment_methods(id, type="card", limit=None, starting_after=None, **params):
    return resources.PaymentMethod._api_list_all(
        f"/v1/customers/{id}/payment_methods", customer=id, type=type, limit=limit, starting_after=starting_after,
        **params)


def _setup_intents_attach_what_they_save() -> None:
    """Replace the confirm route's handler (localstripe's router takes it from `extra_apis`)."""
    confirm = resources.SetupIntent._api_confirm

    def confirm_and_attach(id, **params):
        setup = confirm(id, **params)
        if setup.status == "succeeded" and setup.customer and setup.payment_method:
            resources.PaymentMethod._api_retrieve(setup.payment_method).customer = setup.customer
        return setup

    for index, (method, url, func) in enumerate(resources.extra_apis):
        if func == confirm:
            resources.extra_apis[index] = (method, url, confirm_and_attach)


def build_app() -> web.Application:
    _keep_the_store_in_memory()
    _payment_intents_take_description()
    _payment_intents_save_their_card()
    _setup_intents_attach_what_they_save()
    resources.extra_apis.append(("GET", "/v1/customers/{id}/payment_methods", _customer_payment_methods))
    from localstripe import server  # builds its routes from extra_apis: after the changes above

    return server.app


def main() -> None:
    app = build_app()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    web.run_app(app, sock=sock, access_log=None, print=None)


if __name__ == "__main__":
    sys.exit(main())
