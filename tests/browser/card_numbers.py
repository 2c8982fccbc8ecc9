"""Card numbers and CVCs never reach our database or logs: after a journey that typed test cards,
every text column of every table and every log line of the session are searched for them."""

import re

from django.db import connection

# The test cards the journeys type, and how a person might type them (spaces, dashes).
TEST_CARD_NUMBERS = ("4242424242424242", "4000000000000002", "4000000000000341", "4000002500003155",
                     "4000000000009995", "4000000000000069")
# A CVC is too short to search for on its own: only next to a field name.
CVC_FIELD = re.compile(r"""["']?cvc["']?\s*[:=]\s*["']?(\d{3,4})""", re.IGNORECASE)


def _variants(number: str) -> list[str]:
    groups = [number[i:i + 4] for i in range(0, len(number), 4)]
    return [number, " ".join(groups), "-".join(groups)]


def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT table_name, column_name FROM information_schema.columns
            WHERE table_schema = current_schema()
              AND data_type IN ('text', 'character varying', 'jsonb', 'json')
            ORDER BY table_name, column_name""")
        return cursor.fetchall()


def _number_pattern() -> str:
    """One POSIX regex for every test card, typed whole or in groups of four (spaces or dashes)."""
    grouped = ["[ -]?".join(number[i:i + 4] for i in range(0, len(number), 4)) for number in TEST_CARD_NUMBERS]
    return "(" + "|".join(grouped) + ")"


def found_in_database() -> list[str]:
    hits = []
    numbers, cvc = _number_pattern(), r"""cvc["']?\s*[:=]\s*["']?\d{3,4}"""
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            cursor.execute(f'SELECT "{column}"::text FROM "{table}" WHERE "{column}"::text ~ %s '
                           f'OR "{column}"::text ~* %s', [numbers, cvc])
            hits += [f"{table}.{column}: {value}" for (value,) in cursor.fetchall()]
    return hits


def columns_containing(text: str, *, except_tables: str = "") -> list[str]:
    """Every text column value that contains `text` (case-insensitive), as "table.column: value";
    tables whose name starts with `except_tables` are left out (e.g. the sandbox processor's own)."""
    hits = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            if except_tables and table.startswith(except_tables):
                continue
            cursor.execute(f'SELECT "{column}"::text FROM "{table}" '
                           f'WHERE strpos(lower("{column}"::text), lower(%s)) > 0', [text])
            hits += [f"{table}.{column}: {value}" for (value,) in cursor.fetchall()]
    return hits


def found_in_logs(lines: list[str]) -> list[str]:
    hits = []
    for line in lines:
        for number in TEST_CARD_NUMBERS:
            if any(variant in line for variant in _variants(number)):
                hits.append(line)
        if CVC_FIELD.search(line):
            hits.append(line)
    return hits
