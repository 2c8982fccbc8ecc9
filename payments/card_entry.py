"""Pages that take a card in the browser (the sell screen's manual entry, saving a card on a customer
profile or on the customer's phone, and later paying a link) get the processor's card-entry module the
same way: `card_entry_context()` for the view and `@card_entry_page` on it, then in the template

    {% block head %}{% include "payments/card_entry_scripts.html" %}…{% endblock %}
    {% include "payments/card_entry_field.html" %}   (with postcode="required" to ask for the postcode)

The card fields belong to the processor; a page only ever receives a payment method id. These pages take
cards for the shop (its customers' cards, the merchant's processor account).

With Stripe as the processor, `@card_entry_page` adds to the page's Content Security Policy exactly the
origins Stripe.js needs (STRIPE_JS_CSP, from Stripe's security guide): its script and frames from
js.stripe.com (and its *.js.stripe.com subdomains), 3-D Secure frames from hooks.stripe.com, and calls
to api.stripe.com. Stripe.js must be loaded from js.stripe.com (Stripe does not allow it to be bundled
or self-hosted, for PCI), so it is the one outside script a page may load, on these pages only. With
the sandbox nothing changes: every page stays on our own origin.
"""

from functools import wraps

from django.conf import settings

from payments.gateway import MERCHANT, get_gateway

STRIPE_JS_CSP = {
    "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


def card_entry_csp(driver: str) -> dict:
    """The CSP of a card-entry page for this driver: the project's, plus Stripe's origins for Stripe."""
    policy = {directive: list(sources) for directive, sources in settings.SECURE_CSP.items()}
    if driver == "stripe":
        for directive, sources in STRIPE_JS_CSP.items():
            policy[directive] = [*policy.get(directive, []), *sources]
    return policy


def card_entry_context(payee: str = MERCHANT) -> dict:
    """What card_entry_scripts.html and card_entry_field.html need: the driver, and the gateway's
    browser_config as data- attributes. `payee`: whose processor account takes the card (the shop's;
    the platform's for the merchant's own card with us, Setup › Billing)."""
    browser = get_gateway(payee).browser_config()
    return {"card_driver": browser.get("driver", ""),
            "card_config": sorted((key.replace("_", "-"), value) for key, value in browser.items())}


def card_entry_page_for(payee: str):
    """`card_entry_page` for the card fields of `payee`'s processor account."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            driver = get_gateway(payee).name
            if driver == "stripe":
                response._csp_config = card_entry_csp(driver)  # read by django.middleware.csp
            return response

        return wrapped

    return decorator


card_entry_page = card_entry_page_for(MERCHANT)


def pending_confirmation(payment) -> str:
    """The client secret the browser confirms a payment with (3-D Secure), while the processor still waits
    for the cardholder; "" otherwise. Pages that take a card answer their script with it."""
    from payments.gateway.base import PaymentStatus

    if not payment.requires_action:
        return ""
    current = get_gateway(payment.payee).retrieve_payment(payment.processor_payment_id)
    return current.client_secret if current.status == PaymentStatus.REQUIRES_ACTION else ""
