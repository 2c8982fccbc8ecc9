"""Every staff page is served with the strict CSP and carries no inline script, handler or style,
and no address outside our own server. (With Stripe as the processor the card-entry pages add Stripe.js's
origins: tests/payments/test_card_entry_pages.py.)"""

import re

import pytest
from django.urls import reverse

from tests.test_url_walk import ROUTES, _access, _has_params

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTR = re.compile(r"\sstyle\s*=", re.I)
OUTSIDE = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//""", re.I)

PAGES = [name for name, pattern in ROUTES if not _has_params(pattern)]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_page_is_csp_clean(owner_client, name):
    response = owner_client.get(reverse(name))
    if response.status_code != 200 or response.streaming:
        return  # redirects, POST-only endpoints and file downloads render no page
    assert_csp_clean(response, name)


def assert_csp_clean(response, name: str = "") -> None:
    """The page carries the strict CSP and nothing it would block or that leaves our server."""
    html = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "//" not in response["Content-Security-Policy"], name  # no outside origin (the sandbox processor)
    assert not INLINE_SCRIPT.findall(html), name
    assert not HANDLER.findall(html), name
    assert not STYLE_ATTR.findall(html), name
    assert not OUTSIDE.findall(html), name


def test_every_page_declares_access():
    assert all(_access(pattern) for _, pattern in ROUTES)
