"""Signing in with an e-mail address, whatever its case.

E-mail addresses are stored lower-case (every way a user is created or edited goes through
`login_email`, and a unique index on lower(email) guards the table), so sign-in finds the user by
the typed address lower-cased (User.objects.get_by_natural_key), password reset matches any case
(Django's form), and the login lockout counts "CASHIER@DEMO.TEST" and "cashier@demo.test" as the
same user (AXES_USERNAME_CALLABLE = lockout_username)."""

from django.conf import settings


def login_email(value) -> str:
    """The one form of an e-mail address that users are stored and looked up under."""
    return value.strip().lower() if isinstance(value, str) else ""


def lockout_username(request, credentials: dict | None = None) -> str:
    """What django-axes counts failed logins against: the typed address, in its one form."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        return login_email(credentials.get(field))
    data = getattr(request, "data", None) or getattr(request, "POST", {})
    return login_email(data.get(field))
