"""ExportJob now belongs to posbackoffice (its migration 0001 takes it over, table and rows as they are):
retail forgets it, in Django's state only; the table is not touched."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('retail', '0006_sale_discarded'),
        ('posbackoffice', '0001_export_job'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name='exportjob',
                    name='export_job_unfinished',
                ),
                migrations.DeleteModel(
                    name='ExportJob',
                ),
            ],
            database_operations=[],
        ),
    ]
