"""CSV exports: one registry of export kinds, served inline when small and by the worker when large.

An export kind knows its header, how to count its rows and how to iterate them as tuples of plain
values; rows stream from a server-side cursor in chunks, so memory stays flat whatever the size.
CSV follows the reader's language: French files use ";" between fields and a decimal comma (what a
French spreadsheet expects), English files "," and a decimal point; both are UTF-8 with a BOM.
"""

import csv
import datetime
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils import timezone, translation

from posbackoffice.money import format_decimal

# Above this many rows an export runs in the background with a progress bar.
INLINE_LIMIT = 5_000
CHUNK = 2_000


@dataclass(frozen=True)
class ExportKind:
    key: str
    permission: str
    file_stem: str
    header: Callable[[], list[str]]
    count: Callable[[object, dict], int]
    rows: Callable[[object, dict], Iterable[tuple]]


REGISTRY: dict[str, ExportKind] = {}


def register(kind: ExportKind) -> ExportKind:
    REGISTRY[kind.key] = kind
    return kind


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str
    decimal_comma: bool


def dialect_for(language: str | None) -> CsvDialect:
    return CsvDialect(delimiter=";", decimal_comma=True) if (language or "en").startswith("fr") \
        else CsvDialect(delimiter=",", decimal_comma=False)


@dataclass(frozen=True, slots=True)
class Amount:
    """A minor-units integer in a row, which the writer formats as a decimal amount."""

    value: int
    currency: str


def _cell(value, dialect: CsvDialect, tz):
    if value is None:
        return ""
    if isinstance(value, Amount):
        text = format_decimal(value.value, value.currency)
        return text.replace(".", ",") if dialect.decimal_comma else text
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value, tz).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return value


class _Echo:
    def write(self, value):
        return value


def _account_zone(account):
    return zoneinfo.ZoneInfo(account.timezone)


def _rows_in_language(kind: ExportKind, account, params: dict, language: str) -> Iterator[tuple]:
    """Rows produced with `language` active. A streaming response is consumed after the middleware
    has reset the request's language, so each step of the row generator runs inside its own override
    (an override held across a `yield` would leak into whatever the consumer does in between)."""
    with translation.override(language):
        rows = iter(kind.rows(account, params))
    while True:
        with translation.override(language):
            try:
                row = next(rows)
            except StopIteration:
                return
            yield row


def csv_lines(kind: ExportKind, account, params: dict, language: str) -> Iterator[str]:
    """The file, line by line (the first line starts with a BOM). Times are in the shop's time zone,
    labels in `language`, whichever thread or request consumes the generator."""
    dialect = dialect_for(language)
    tz = _account_zone(account)
    writer = csv.writer(_Echo(), delimiter=dialect.delimiter, lineterminator="\r\n")
    with translation.override(language):
        header = writer.writerow(kind.header())
    yield "\ufeff" + header
    for row in _rows_in_language(kind, account, params, language):
        yield writer.writerow([_cell(value, dialect, tz) for value in row])


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
    Returns the number of data rows."""
    tmp = path.with_suffix(".part")
    rows = -1  # the header line is not a row
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        for line in csv_lines(kind, account, params, language):
            handle.write(line)
            rows += 1
            if rows and rows % every == 0:
                progress(rows)
    tmp.replace(path)
    return rows
