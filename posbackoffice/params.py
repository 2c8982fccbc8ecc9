"""The one way a view reads ids and free text from a request (GET, POST, URL kwargs), so that bad input
gets a clear 4xx, never a server error.

- An id is ASCII digits, within the database's bigint, or it names nothing: `parse_id` answers None and
  `id_or_404` answers "not found", like another account's id. `str.isdigit()` is not the test: it takes
  "²" and "١٢", which int() or the database then refuse.
- Free text a view reads without a form (a search box, a scanned code) is `clean_text`: control
  characters, NUL included (PostgreSQL refuses it), become spaces, and it is cut to a sane length.

Form fields with the same rules (ids, whole numbers, amounts, dates, search text) are in
posbackoffice/forms.py. URL kwargs are safe as they are when the converter is `int` (ASCII digits;
an id beyond bigint finds nothing) or `slug`.
"""

import re
import unicodedata

from django.http import Http404

BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1
# [0-9], not \d: \d also matches Arabic-Indic, full-width and other digits.
_ID = re.compile(r"[0-9]{1,19}")
SEARCH_MAX_LENGTH = 100


def parse_id(value) -> int | None:
    """The id a request parameter names (a positive integer within bigint), or None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= BIGINT_MAX else None


def id_or_404(value) -> int:
    """The id a request parameter names; anything else is not found (404)."""
    number = parse_id(value)
    if number is None:
        raise Http404
    return number


def ids_or_404(values) -> list[int]:
    """Ids from a list parameter (request.POST.getlist): all of them, or not found (404)."""
    return [id_or_404(value) for value in values]


def clean_text(value, max_length: int = SEARCH_MAX_LENGTH) -> str:
    """Free text as typed into a search box: control characters (NUL, escape, line breaks) become spaces;
    cut to `max_length`, without the spaces around it."""
    if not isinstance(value, str):
        return ""
    text = "".join(" " if unicodedata.category(char) == "Cc" else char for char in value.strip()[:max_length])
    return text.strip()
