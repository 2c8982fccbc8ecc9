"""Trigram indexes for the "contains" searches of the sell screen, customers and products lists.

Django's icontains on PostgreSQL compares UPPER(column) LIKE UPPER('%term%'); a GIN trigram index
on UPPER(column) serves it, so search time does not grow with the table. SQLite (the embedded
development database) gets nothing: it has no such index and its tables are small.
"""

from django.db import migrations

INDEXES = [
    ("retail_customer", "first_name"), ("retail_customer", "last_name"), ("retail_customer", "email"),
    ("retail_customer", "phone"), ("retail_customer", "company"),
    ("retail_product", "name"), ("retail_product", "sku"), ("retail_product", "barcode"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_{column}_trgm ON {table} USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("retail", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
