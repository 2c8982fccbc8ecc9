"""posbackoffice 0001 and retail 0007 move ExportJob from retail to posbackoffice: the table, its rows,
its index and its content type stay as they were, and the move can be undone."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from posbackoffice.models import ExportJob
from tests.factories import owner_of

RETAIL_BEFORE = ("retail", "0006_sale_discarded")
BEFORE = [RETAIL_BEFORE, ("posbackoffice", None)]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def retail_export_job(executor: MigrationExecutor):
    return executor.loader.project_state([RETAIL_BEFORE]).apps.get_model("retail", "ExportJob")


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def unfinished_index() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'retail_exportjob'")
        return sorted(row[0] for row in cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_an_export_job_written_in_retail_is_read_in_posbackoffice_and_back(account):
    owner = owner_of(account)
    content_type_id = ContentType.objects.get_for_model(ExportJob).pk
    indexes = unfinished_index()

    before = migrate(BEFORE)
    row = retail_export_job(before).objects.create(account_id=account.pk, created_by_id=owner.pk, kind="sales",
                                    params={"status": "completed", "_language": "fr"}, status="running",
                                    total_rows=10, rows_written=4, tries=1)
    assert ContentType.objects.get(pk=content_type_id).app_label == "retail"

    migrate(latest())

    job = ExportJob.objects.get(pk=row.pk)
    assert (job.account_id, job.created_by_id, job.kind, job.params, job.status, job.total_rows,
            job.rows_written, job.tries) == (account.pk, owner.pk, "sales", {"status": "completed", "_language": "fr"},
                                             "running", 10, 4, 1)
    assert ExportJob._meta.db_table == "retail_exportjob" and unfinished_index() == indexes
    assert ContentType.objects.get_for_model(ExportJob).pk == content_type_id  # renamed in place, not a new one
    assert ContentType.objects.get(pk=content_type_id).app_label == "posbackoffice"

    back = migrate(BEFORE)  # and undone: retail reads it again
    assert retail_export_job(back).objects.get(pk=row.pk).kind == "sales"
    assert ContentType.objects.get(pk=content_type_id).app_label == "retail"
    migrate(latest())
    assert ExportJob.objects.filter(pk=row.pk).exists()


def test_audit_rows_written_before_the_move_name_the_export_as_new_ones_do():
    from django.utils import translation

    from accounts.audit import object_type_label

    with translation.override("en"):
        assert object_type_label("retail.exportjob") == object_type_label("posbackoffice.exportjob") == "export"
