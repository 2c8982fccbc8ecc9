"""Keyset pages: the one paginator of our long lists (sales history, Customers, Finance › Payments).

A list is ordered by a few columns of its model, all in one direction, the last one unique and none
NULL in the list's rows (`Keyset(Sale, "-completed_at", "-id")`). A page is the `size` rows after (or
before) a row's place in that order, found by a row comparison that the list's index starts at, so a
page deep in the list costs what the first one does:

    page = SALE_PAGES.page(queryset, **cursor_arguments(request.GET))  # ?after=… or ?before=…

The cursor naming a place is opaque to the reader but stable: the row's ordering values as JSON
(times aware, in UTC), base64url-encoded. A cursor we did not write is refused, whatever is wrong
with it — not base64 or JSON, the wrong number or type of values, a naive time, a number with other
than ASCII digits or out of its column's range, a text longer than its column or holding what
PostgreSQL cannot store, a cursor longer than MAX_CURSOR_LENGTH: the page is then `refused`, its
message saying so, with no rows (the list answers 400 and shows the message in place of the rows).
A valid cursor past the end of the list (its rows deleted meanwhile) gives the first page.
"""

import base64
import binascii
import datetime
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

# The query parameters of a cursor: the page after a row, or the page before it.
CURSOR_PARAMETERS = ("after", "before")
MAX_CURSOR_LENGTH = 512
CURSOR_REFUSED = _("This page link is not valid (it may have been cut short or changed). Start again from the "
                   "first page.")

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# What Keyset writes (isoformat, seconds and microseconds, an offset); ASCII digits only.
_AWARE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}:\d{2}", re.ASCII)


class InvalidCursor(ValueError):
    pass


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None = None
    previous_cursor: str | None = None
    refused: str = ""  # why the cursor was refused (then there are no rows)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def is_first(self) -> bool:
        return not self.refused and not self.has_previous


class _Column:
    """One ordering column: its name, direction, and how its values go into and out of a cursor."""

    def __init__(self, model, spec: str):
        self.name = spec.removeprefix("-")
        self.descending = spec.startswith("-")
        field = model._meta.get_field(self.name)
        self.field = field
        if isinstance(field, models.DateTimeField):
            self.decode = self._time
        elif isinstance(field, (models.IntegerField, models.AutoField)):
            self.decode = self._integer
        elif isinstance(field, (models.CharField, models.TextField)):
            self.decode = self._text
        else:
            raise ImproperlyConfigured(f"keyset of {model.__name__}: no cursor for {type(field).__name__}")

    def encode(self, value):
        if isinstance(value, datetime.datetime):
            if value.tzinfo is None:
                raise ValueError(f"{self.name}: a naive time cannot be placed in a cursor")
            return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
        return value

    def _time(self, value) -> datetime.datetime:
        if not isinstance(value, str) or not _AWARE_TIME.fullmatch(value):
            raise InvalidCursor(f"{self.name}: not an aware time")
        try:
            return datetime.datetime.fromisoformat(value).astimezone(datetime.UTC)
        except (ValueError, OverflowError):  # 2026-02-30, or beyond year 9999 once in UTC
            raise InvalidCursor(f"{self.name}: out of range") from None

    def _integer(self, value) -> int:
        low, high = connection.ops.integer_field_range(self.field.get_internal_type())
        if type(value) is not int or (low is not None and value < low) or (high is not None and value > high):
            raise InvalidCursor(f"{self.name}: not an integer of the column's range")
        return value

    def _text(self, value) -> str:
        if not isinstance(value, str) or "\x00" in value:
            raise InvalidCursor(f"{self.name}: not a text")
        if self.field.max_length is not None and len(value) > self.field.max_length:
            raise InvalidCursor(f"{self.name}: longer than the column")
        try:
            value.encode()  # a lone surrogate ("\ud800" in JSON) cannot be sent to the database
        except UnicodeEncodeError:
            raise InvalidCursor(f"{self.name}: not a text") from None
        return value


class Keyset:
    def __init__(self, model: type[models.Model], *ordering: str, size: int = 50):
        self.model = model
        self.columns = [_Column(model, spec) for spec in ordering]
        last = self.columns[-1].field if self.columns else None
        if last is None or not (last.unique or last.primary_key):
            raise ImproperlyConfigured(f"keyset of {model.__name__}: the last column must be unique")
        if len({column.descending for column in self.columns}) != 1:
            raise ImproperlyConfigured(f"keyset of {model.__name__}: one direction, to compare the columns as a row")
        self.ordering = tuple(ordering)
        self.size = size

    def __repr__(self):
        return f"<Keyset {self.model.__name__} {', '.join(self.ordering)}>"

    # ---- cursors ---------------------------------------------------------------------------------------

    def cursor(self, row) -> str:
        """The place of `row` (a model instance) in the list, fit for a URL."""
        values = [column.encode(getattr(row, column.field.attname)) for column in self.columns]
        data = json.dumps(values, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    def decode(self, cursor: str) -> tuple:
        """The ordering values a cursor holds; InvalidCursor for anything Keyset.cursor did not write."""
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH or not _BASE64URL.fullmatch(cursor):
            raise InvalidCursor("not a cursor")
        try:
            values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (ValueError, binascii.Error, RecursionError):  # UnicodeDecodeError is a ValueError
            raise InvalidCursor("not a cursor") from None
        if not isinstance(values, list) or len(values) != len(self.columns):
            raise InvalidCursor("not this list's cursor")
        return tuple(column.decode(value) for column, value in zip(self.columns, values, strict=True))

    # ---- pages -----------------------------------------------------------------------------------------

    def ordered(self, queryset):
        """The queryset in the keyset's order, unless it states it already (it may say NULLS FIRST, for its
        planner's sake); ordered otherwise, it is a programming error."""
        if not queryset.query.order_by:
            return queryset.order_by(*self.ordering)
        stated = []
        for item in queryset.query.order_by:
            if isinstance(item, str):
                stated.append(item)
            else:  # F("name").asc(...) / .desc(...)
                stated.append(("-" if item.descending else "") + item.expression.name)
        if tuple(stated) != self.ordering:
            raise ImproperlyConfigured(f"{self!r}: the queryset is ordered by {stated}")
        return queryset

    def _beyond(self, values: tuple, *, forward: bool) -> list:
        """Filter arguments for the rows after (forward) or before the place `values` in the list's order.
        A row comparison on the ordering columns, which the list's index takes as its start; the first
        column's bound said again on its own, so that it does even where the row comparison could not."""
        greater = forward != self.columns[0].descending
        names = [column.name for column in self.columns]
        comparison = (TupleGreaterThan if greater else TupleLessThan)(Tuple(*names), values)
        lead = {f"{names[0]}__{'gte' if greater else 'lte'}": values[0]}
        return [comparison, lead]

    def page(self, queryset, *, after: str | None = None, before: str | None = None) -> KeysetPage:
        """The first page of `queryset`, or the page after or before a cursor's place. An invalid cursor
        gives a refused page, without a query."""
        queryset = self.ordered(queryset)
        try:
            if after:
                position, forward = self.decode(after), True
            elif before:
                position, forward = self.decode(before), False
            else:
                position, forward = None, True
        except InvalidCursor:
            return KeysetPage(rows=[], refused=str(CURSOR_REFUSED))
        size = self.size
        if position is None:
            rows = list(queryset[:size + 1])
            return KeysetPage(rows=rows[:size], next_cursor=self.cursor(rows[size - 1]) if len(rows) > size else None)
        comparison, lead = self._beyond(position, forward=forward)
        beyond = queryset.filter(comparison, **lead)
        rows = list((beyond if forward else beyond.reverse())[:size + 1])
        if not rows:  # nothing there any more (deleted meanwhile): the first page
            return self.page(queryset)
        more = len(rows) > size
        rows = rows[:size] if forward else rows[:size][::-1]
        return KeysetPage(rows=rows,
                          next_cursor=self.cursor(rows[-1]) if more or not forward else None,
                          previous_cursor=self.cursor(rows[0]) if forward or more else None)


def cursor_arguments(query: Mapping) -> dict:
    """The request's cursor, for Keyset.page: {"after": …, "before": …}."""
    return {name: query.get(name) or None for name in CURSOR_PARAMETERS}


def query_without_cursor(query: QueryDict) -> str:
    """The list's query string (its filters) without the cursor, for the links to other pages."""
    query = query.copy()
    for name in CURSOR_PARAMETERS:
        query.pop(name, None)
    return query.urlencode()
