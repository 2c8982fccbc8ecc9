"""The card-entry page of the sell screen (Credit/Debit › Manual entry) with each processor: with Stripe it
loads Stripe.js from js.stripe.com and the Stripe driver with the publishable key, and its CSP allows
exactly Stripe.js's origins; with the sandbox no page names any origin but ours."""

import re

import pytest
from django.urls import reverse

from payments.gateway import reset_gateway_cache
from retail.services.sales import sale_add_product, sale_start
from tests.retail import report_factories as rf
from tests.retail.builders import choose_register
from tests.test_pages_are_csp_clean import HANDLER, INLINE_SCRIPT, STYLE_ATTR

pytestmark = pytest.mark.django_db

OUTSIDE_ADDRESS = re.compile(r"""(?:src|href|action)\s*=\s*["']((?:https?:)?//[^"']*)""", re.I)
STRIPE_SOURCES = {
    "script-src": ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"],
    "frame-src": ["'self'", "https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["'self'", "https://api.stripe.com"],
}


def policy(response) -> dict[str, list[str]]:
    directives = (part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def outside_sources(response) -> list[str]:
    return sorted({source for sources in policy(response).values() for source in sources if "//" in source})


@pytest.fixture
def till(client, owner, account):
    """The owner at an open register with a €12.50 sale in progress."""
    shop = rf.make_shop(account)
    rf.open_register(shop)
    item = rf.product(shop, sku="CARD-1", name="Article", price=1250, rate_bp=2000)
    sale = sale_start(actor=owner, account=account, register_id=shop.register.pk)
    sale_add_product(actor=owner, account=account, sale_id=sale.pk, product_id=item.pk, quantity=1)
    client.force_login(owner)
    choose_register(client, shop.register)
    return client


@pytest.fixture
def stripe_mode(settings):
    settings.PAYMENTS_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_never_in_a_page"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_card_page"
    reset_gateway_cache()
    yield
    reset_gateway_cache()


def test_with_stripe_the_card_page_loads_stripe_js_and_the_stripe_driver(till, stripe_mode):
    response = till.get(reverse("payments_sell:card"))

    assert response.status_code == 200
    html = response.content.decode()
    assert OUTSIDE_ADDRESS.findall(html) == ["https://js.stripe.com/v3/"]
    assert '<script src="/static/js/card_stripe.js" defer></script>' in html
    assert 'data-driver="stripe"' in html and 'data-publishable-key="pk_test_card_page"' in html
    assert "sk_test" not in html and "card_sandbox" not in html
    assert not INLINE_SCRIPT.findall(html) and not HANDLER.findall(html) and not STYLE_ATTR.findall(html)
    csp = policy(response)
    assert {name: csp[name] for name in STRIPE_SOURCES} == STRIPE_SOURCES
    assert outside_sources(response) == sorted({source for sources in STRIPE_SOURCES.values() for source in sources
                                                if "//" in source})


def test_with_stripe_the_other_pages_keep_our_own_origin_only(till, stripe_mode):
    response = till.get(reverse("retail:sell"))

    assert response.status_code == 200
    assert outside_sources(response) == []
    assert "js.stripe.com" not in response.content.decode()


def test_with_the_sandbox_the_card_page_names_no_outside_origin(till):
    response = till.get(reverse("payments_sell:card"))

    assert response.status_code == 200
    html = response.content.decode()
    assert OUTSIDE_ADDRESS.findall(html) == [] and outside_sources(response) == []
    assert '<script src="/static/js/card_sandbox.js" defer></script>' in html and 'data-driver="sandbox"' in html


@pytest.fixture
def saved_card_pages(client, owner, account):
    """The two pages that save a card: on a customer's profile, and the customer's own by its link."""
    from saved_cards.invites import invite_token
    from tests.retail.factories import CustomerFactory
    from tests.saved_cards.builders import enable, qr_invite

    enable(account)
    customer = CustomerFactory(account=account, first_name="Léa")
    token = invite_token(qr_invite(customer))
    client.force_login(owner)
    return client, [reverse("saved_cards:add", args=[customer.pk]), reverse("saved_cards:card_page", args=[token])]


def test_with_stripe_the_pages_that_save_a_card_allow_stripe_js(saved_card_pages, stripe_mode):
    client, urls = saved_card_pages
    for url in urls:
        response = client.get(url)

        assert response.status_code == 200, url
        assert OUTSIDE_ADDRESS.findall(response.content.decode()) == ["https://js.stripe.com/v3/"]
        csp = policy(response)
        assert {name: csp[name] for name in STRIPE_SOURCES} == STRIPE_SOURCES, url
