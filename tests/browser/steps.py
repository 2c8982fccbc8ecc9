"""Steps the journeys share."""

import re

FACTORY_PASSWORD = "pass-word-123"  # tests.factories.UserFactory's


def sign_in(page, base_url: str, email: str, password: str = FACTORY_PASSWORD) -> None:
    """Sign in as someone else in this browser (whoever was signed in before is forgotten)."""
    page.context.clear_cookies()
    page.goto(f"{base_url}/login/")
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))


def open_first_register(page, base_url: str) -> None:
    """At the sell screen, use the first register listed (already open)."""
    page.goto(f"{base_url}/sell/")
    page.locator("form.register-choice").first.get_by_role("button", name="Use this register").click()
    page.wait_for_load_state()  # htmx binds the search box once the page has loaded


def add_to_cart(page, query: str) -> None:
    page.locator("#product-search").fill(query)
    page.locator("#search-results [data-result]").first.click()


def type_card(area, number: str, *, postcode: str | None = None) -> None:
    """Type a test card into the card-entry fields inside `area` (the sandbox's stand-in fields)."""
    area.get_by_label("Card number").fill(number)
    area.get_by_label("Expiry (MM/YY)").fill("12/34")
    area.get_by_label("Security code (CVC)").fill("123")
    if postcode is not None:
        area.get_by_label("Postcode").fill(postcode)
