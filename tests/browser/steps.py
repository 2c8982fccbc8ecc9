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


def open_first_register(page, base_url: str, *, use: str = "Use this register") -> None:
    """At the sell screen, use the first register listed (already open)."""
    page.goto(f"{base_url}/sell/")
    page.locator("form.register-choice").first.get_by_role("button", name=use).click()
    page.wait_for_load_state()  # htmx binds the search box once the page has loaded


def console_errors(page) -> list[str]:
    """The page's console errors (a refused inline style or script among them) and uncaught exceptions,
    from now on, as they happen; the list fills while the journey goes."""
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def other_payments(page, *path: str) -> None:
    """On the sell screen, Other payments, then each button of `path` and its last entry's link (seed 004:
    "Credit/Debit", "Manual entry"; or "Saved payments")."""
    panel = page.locator("details.other-payments")
    panel.locator(":scope > summary").click()
    for group in path[:-1]:
        panel.get_by_text(group, exact=True).click()
    panel.get_by_role("link", name=path[-1]).click()


def add_to_cart(page, query: str) -> None:
    page.locator("#product-search").fill(query)
    page.locator("#search-results [data-result]").first.click()


# The sandbox's card fields as the reader sees them: number, expiry (and its placeholder), CVC, postcode.
CARD_FIELDS = {
    "en": ("Card number", "Expiry (MM/YY)", "MM/YY", "Security code (CVC)", "Postcode"),
    "fr": ("Numéro de carte", "Expiration (MM/AA)", "MM/AA", "Code de sécurité (CVC)", "Code postal"),
}


def type_card(area, number: str, *, postcode: str | None = None, language: str = "en") -> None:
    """Type a test card into the card-entry fields inside `area` (the sandbox's stand-in fields)."""
    number_label, expiry_label, expiry_placeholder, cvc_label, postcode_label = CARD_FIELDS[language]
    area.get_by_label(number_label).fill(number)
    expiry = area.get_by_label(expiry_label)
    assert expiry.get_attribute("placeholder") == expiry_placeholder
    expiry.fill("12/34")
    area.get_by_label(cvc_label).fill("123")
    if postcode is not None:
        area.get_by_label(postcode_label).fill(postcode)
