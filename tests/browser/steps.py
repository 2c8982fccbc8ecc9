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
