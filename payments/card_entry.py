"""The card-entry module as pages include it (static/js/card_entry.js and the processor's driver):
`card_entry_context()` for the view, then in the template

    {% block head %}{% include "payments/card_entry_scripts.html" %}…{% endblock %}
    {% include "payments/card_entry_field.html" %}   (with postcode="required" to ask for the postcode)

The card fields belong to the processor; a page only ever receives a payment method id."""

from payments.gateway import get_gateway


def card_entry_context() -> dict:
    browser = get_gateway().browser_config()
    return {"card_driver": browser.get("driver", ""),
            "card_config": sorted((key.replace("_", "-"), value) for key, value in browser.items())}
