"""CSV exports: one registry of export kinds (REGISTRY, a posbackoffice.registry.Registry keyed by the
kind's name, which ExportJob.kind stores), served inline when small and by the worker when large.

An export kind knows its header, how to count its rows and how to iterate them as tuples of plain
values; rows stream from a server-side cursor in chunks, so memory stays flat whatever the size.
CSV follows the reader's language: French files use ";" between fields and a decimal comma (what a
French spreadsheet expects), English files "," and a decimal point; both are UTF-8 with a BOM.

A text cell starting with "=", "+", "-", "@", a tab or a carriage return would be read by a spreadsheet
as a formula (a customer named `=HYPERLINK(...)` becoming a live link in the owner's file): such a cell
is written with a leading apostrophe, which spreadsheets take as "this is text" (`neutralised`). Every
text (str) value of a row is text someone typed or a label of ours; numbers are never given as text
(amounts are `Amount`, counts `int`, times `datetime`), so a negative amount stays a number. Both paths
do it: the portable writer in Python, COPY in SQL (`SqlCells.text`, `SqlCells.label`).
"""

import csv
import datetime
import itertools
import os
import threading
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Case, Func, QuerySet, TextField, Value, When
from django.db.models.functions import NullIf
from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.functional import Promise

from posbackoffice.money import decimal_formatter, exponent
from posbackoffice.registry import Registry

# What a spreadsheet reads as the start of a formula, at the start of a cell (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Above this many rows an export runs in the background with a progress bar.
INLINE_LIMIT = 5_000
CHUNK = 2_000


@dataclass(frozen=True)
class ExportKind:
    permission: str
    file_stem: str
    header: Callable[[], list[str]]
    count: Callable[[object, dict], int]
    # Tuples of plain values: texts as str (each one neutralised), numbers as int or Amount, never as text.
    rows: Callable[[object, dict], Iterable[tuple]]
    # Optional: the same rows as a queryset of ready-made cells (built with the SqlCells given), which
    # write_file has PostgreSQL write itself with COPY, three times as fast as `rows` for a large file.
    # It must give exactly the file `rows` gives (a test compares them).
    sql_rows: Callable[[object, dict, "SqlCells"], QuerySet] | None = None


# Kinds are registered by the modules that read their rows (retail's selectors, payments.selectors),
# which their app's ready() imports, so web and worker know every kind.
REGISTRY: Registry[ExportKind] = Registry("export kinds")


def neutralised(text: str) -> str:
    """The text as a cell a spreadsheet shows as text: prefixed with an apostrophe when it starts as a
    formula would."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str
    decimal_comma: bool


def dialect_for(language: str | None) -> CsvDialect:
    return CsvDialect(delimiter=";", decimal_comma=True) if (language or "en").startswith("fr") \
        else CsvDialect(delimiter=",", decimal_comma=False)


class Amount:
    """A minor-units integer in a row, which the writer formats as a decimal amount. A plain slotted
    class: a large export makes millions of them."""

    __slots__ = ("value", "currency")

    def __init__(self, value: int, currency: str):
        self.value = value
        self.currency = currency

    def __eq__(self, other):
        return isinstance(other, Amount) and (self.value, self.currency) == (other.value, other.currency)

    def __hash__(self):
        return hash((self.value, self.currency))

    def __repr__(self):
        return f"Amount({self.value!r}, {self.currency!r})"


class _DecimalFormats(dict):
    """currency → its amount formatter (money.decimal_formatter), made on first use."""

    def __init__(self, point: str):
        super().__init__()
        self.point = point

    def __missing__(self, currency: str) -> Callable[[int], str]:
        self[currency] = decimal_formatter(currency, self.point)
        return self[currency]


class _CellFormatter:
    """Turns a row's values into CSV cells: None → "", Amount → decimal in the dialect, datetime → local
    time of the shop, date → ISO, bool → 1/0, text neutralised, anything else (int) as it is. How to
    format a value is looked up by its type, worked out once per type; each currency's amount format is
    made once."""

    def __init__(self, dialect: CsvDialect, tz):
        self.tz = tz
        self.decimals = _DecimalFormats("," if dialect.decimal_comma else ".")
        self.by_type: dict[type, Callable | None] = {type(None): lambda value: "", bool: self._bool,
                                                     Amount: self._amount, str: neutralised}

    def row(self, values) -> list:
        by_type = self.by_type
        try:
            return [value if (format_cell := by_type[type(value)]) is None else format_cell(value)
                    for value in values]
        except KeyError:  # a type not met before: learn how to format it, then format the row
            for value in values:
                if type(value) not in by_type:
                    by_type[type(value)] = self._for_type(type(value))
            return self.row(values)

    def _for_type(self, kind: type) -> Callable | None:
        if issubclass(kind, Amount):
            return self._amount
        if issubclass(kind, datetime.datetime):
            return self._datetime
        if issubclass(kind, datetime.date):
            return datetime.date.isoformat
        if issubclass(kind, bool):
            return self._bool
        if issubclass(kind, str):
            return neutralised
        if issubclass(kind, Promise):  # a lazy translation
            return lambda value: neutralised(str(value))
        return None

    def _amount(self, value: Amount) -> str:
        return self.decimals[value.currency](value.value)

    def _datetime(self, value: datetime.datetime) -> str:
        if value.tzinfo is None:
            raise ValueError("an export's times are aware; a naive time has no place in the shop's zone")
        local = value.astimezone(self.tz)
        # What strftime("%Y-%m-%d %H:%M:%S") writes, at a third of its cost (the same from year 1000 on).
        return local.isoformat(" ", "seconds")[:19] if local.year >= 1000 else local.strftime("%Y-%m-%d %H:%M:%S")

    @staticmethod
    def _bool(value: bool) -> str:
        return "1" if value else "0"


class _Echo:
    def write(self, value):
        return value


def _account_zone(account):
    return zoneinfo.ZoneInfo(account.timezone)


def _chunks_in_language(kind: ExportKind, account, params: dict, language: str) -> Iterator[list[tuple]]:
    """Rows in chunks of CHUNK, produced with `language` active. A streaming response is consumed after
    the middleware has reset the request's language, so each chunk is taken inside its own override,
    closed before the chunk is handed on (an override held across a `yield` would leak into whatever
    the consumer does in between)."""
    with translation.override(language):
        rows = iter(kind.rows(account, params))
    while True:
        with translation.override(language):
            chunk = list(itertools.islice(rows, CHUNK))
        if not chunk:
            return
        yield chunk


def _csv_blocks(kind: ExportKind, account, params: dict, language: str) -> Iterator[tuple[str, int]]:
    """The file as (text, number of data rows) blocks: the header line (with the BOM) first, then a
    block per chunk of rows. Times are in the shop's time zone, labels in `language`, whichever
    thread or request consumes the generator."""
    dialect = dialect_for(language)
    cells = _CellFormatter(dialect, _account_zone(account))
    writer = csv.writer(_Echo(), delimiter=dialect.delimiter, lineterminator="\r\n")
    with translation.override(language):
        header = writer.writerow(kind.header())
    yield "\ufeff" + header, 0
    for chunk in _chunks_in_language(kind, account, params, language):
        yield "".join([writer.writerow(cells.row(row)) for row in chunk]), len(chunk)


# ---- PostgreSQL writes the file: COPY ---------------------------------------------------------------

# What Python's str.strip() takes off (str.isspace()), for btrim in SQL; tests check it against Python.
PYTHON_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
                     "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


class _Sql(Func):
    """A PostgreSQL text expression written around one column or expression: `template` has "{value}"
    where the expression goes, and %s for each of `params`, after the last "{value}"."""

    output_field = TextField()

    def __init__(self, expression, template: str, *params):
        super().__init__(expression)
        self.template, self.extra_params = template, list(params)

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return (self.template.format(value=f"({sql})"),
                [*params] * self.template.count("{value}") + self.extra_params)


# neutralised() in SQL, around a text expression (chr(9): a tab, chr(13): a carriage return).
NEUTRALISED_SQL = ("CASE WHEN left({value}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) THEN '''' || {value} "
                   "ELSE {value} END")


class SqlCells:
    """Builds the SQL of CSV cells as _CellFormatter writes them, for an export kind's `sql_rows`. COPY
    writes NULL as an empty cell but quotes an empty text: empty texts become NULL. Every text cell goes
    through `text` (or is a `label`), which neutralises it as the portable writer does."""

    def __init__(self, dialect: CsvDialect, tz):
        self.point = "," if dialect.decimal_comma else "."
        self.zone = str(tz)

    @staticmethod
    def text(expression):
        """A text cell: NULL when empty, neutralised (a formula's first character gets an apostrophe)."""
        return _Sql(NullIf(expression, Value(""), output_field=TextField()), NEUTRALISED_SQL)

    def amount(self, expression, currency: str):
        """A minor-units integer as money.decimal_formatter writes it."""
        exp = exponent(currency)
        sign = "(CASE WHEN {value} < 0 THEN '-' ELSE '' END || "
        if not exp:
            return _Sql(expression, sign + "abs({value})::text)")
        scale = 10**exp
        return _Sql(expression, sign + f"(abs({{value}}) / {scale})::text || '{self.point}' || "
                                       f"lpad(mod(abs({{value}}), {scale})::text, {exp}, '0'))")

    def local_time(self, expression):
        """An aware time in the shop's zone, "2026-03-10 23:30:00" (seconds cut, as Python's isoformat)."""
        return _Sql(expression, "to_char({value} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')", self.zone)

    @staticmethod
    def label(field: str, labels: dict[str, str]):
        """The field's value shown by its label (already translated, e.g. a status), neutralised as any text."""
        return Case(*[When(**{field: value}, then=Value(neutralised(label))) for value, label in labels.items()],
                    output_field=TextField())

    @staticmethod
    def stripped(expression):
        """Python's text.strip(), NULL when nothing is left (not a cell: give the cell's value to `text`)."""
        return _Sql(expression, "NULLIF(btrim({value}, %s), '')", PYTHON_WHITESPACE)


def _copy_blocks(kind: ExportKind, account, params: dict, language: str) -> Iterator[tuple[bytes, int]]:
    """The file as _csv_blocks makes it, in UTF-8 bytes, the rows written by PostgreSQL (COPY … TO STDOUT):
    Python only adds the header and ends each line with CRLF, as the csv module does."""
    dialect = dialect_for(language)
    writer = csv.writer(_Echo(), delimiter=dialect.delimiter, lineterminator="\r\n")
    with translation.override(language):
        header = writer.writerow(kind.header())
        queryset = kind.sql_rows(account, params, SqlCells(dialect, _account_zone(account)))
        sql, sql_params = queryset.query.sql_with_params()
    yield ("\ufeff" + header).encode(), 0
    copy = f"COPY ({sql}) TO STDOUT (FORMAT csv, DELIMITER '{dialect.delimiter}', ENCODING 'UTF8')"
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(copy, sql_params) as rows:
        block = []
        for row in rows:  # one row a time, ending with "\n" (a "\n" inside a quoted cell stays as it is)
            block.append(bytes(row[:-1]))
            if len(block) == CHUNK:
                yield b"\r\n".join(block) + b"\r\n", CHUNK
                block = []
        if block:
            yield b"\r\n".join(block) + b"\r\n", len(block)


def _file_blocks(kind: ExportKind, account, params: dict, language: str) -> Iterator[tuple[bytes, int]]:
    if kind.sql_rows is not None and connection.vendor == "postgresql":
        return _copy_blocks(kind, account, params, language)
    return ((text.encode(), rows) for text, rows in _csv_blocks(kind, account, params, language))


def csv_lines(kind: ExportKind, account, params: dict, language: str) -> Iterator[str]:
    """The file, a chunk of lines at a time (the first one, the header line, starts with a BOM)."""
    for text, _rows in _csv_blocks(kind, account, params, language):
        yield text


def file_name(kind: ExportKind, account) -> str:
    return f"{kind.file_stem}-{timezone.localdate(timezone=_account_zone(account)).isoformat()}.csv"


def streaming_response(kind: ExportKind, account, params: dict, language: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(kind, account, params, language), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name(kind, account)}"'
    return response


def export_dir(account_id: int) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "exports" / str(account_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_file(kind: ExportKind, account, params: dict, language: str, path: Path,
               progress: Callable[[int], None], every: int = 5_000) -> int:
    """Write the export to `path` (through a temporary file), calling progress(rows) as it goes.
    Returns the number of data rows. On PostgreSQL, a kind with `sql_rows` is written by COPY."""
    # Its own temporary file: a worker that stalled past its claim never writes into its successor's.
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.part")
    rows = reported = 0
    with open(tmp, "wb") as handle:
        for data, count in _file_blocks(kind, account, params, language):
            handle.write(data)
            rows += count
            if rows - reported >= every:
                reported = rows - rows % every
                progress(rows)
    tmp.replace(path)
    return rows
