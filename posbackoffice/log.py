"""Log lines worth reading: a refused page is one line, not Django's warning with the exception's traceback."""

import logging

from django.core.exceptions import PermissionDenied

refused = logging.getLogger("posbackoffice.refused")


def _escaped(text: str) -> str:
    """No line breaks or control characters from the request into the log (as Django escapes a path)."""
    return text.encode("unicode_escape").decode("ascii")


def log_refusal(request, reason: str) -> None:
    """One line per refused page: method, path, user id and reason."""
    user = getattr(request, "user", None)
    who = f"user {user.pk}" if user is not None and user.is_authenticated else "anonymous"
    refused.warning("Forbidden %s %s (%s): %s", _escaped(request.method), _escaped(request.path), who, reason)


class WithoutPermissionDenied(logging.Filter):
    """On `django.request`: drops Django's record of a PermissionDenied (the page's handler logs it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], PermissionDenied))
