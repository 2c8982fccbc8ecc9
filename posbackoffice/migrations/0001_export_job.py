"""ExportJob moves from retail to posbackoffice (every app's lists export through it). Its table stays
`retail_exportjob`, rows and all: this migration only tells Django's state that posbackoffice owns it
(retail's 0007 removes it from retail's state), and renames its content type in place, so that what
points at it (the operator admin's log, permissions) keeps pointing at it."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _rename_content_type(apps, schema_editor, *, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label=new, model="exportjob").exists():
        content_type.objects.filter(app_label=old, model="exportjob").update(app_label=new)


def content_type_to_posbackoffice(apps, schema_editor):
    _rename_content_type(apps, schema_editor, old="retail", new="posbackoffice")


def content_type_to_retail(apps, schema_editor):
    _rename_content_type(apps, schema_editor, old="posbackoffice", new="retail")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0006_user_email_lower_case'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('retail', '0006_sale_discarded'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ExportJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('lease_until', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('tries', models.PositiveSmallIntegerField(default=0)),
                        ('kind', models.CharField(max_length=40)),
                        ('params', models.JSONField(default=dict)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Ready'), ('failed', 'Failed')], default='queued', max_length=10)),
                        ('total_rows', models.PositiveBigIntegerField(default=0)),
                        ('rows_written', models.PositiveBigIntegerField(default=0)),
                        ('file_name', models.CharField(blank=True, max_length=200)),
                        ('error', models.CharField(blank=True, max_length=300)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.account')),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'export',
                        'verbose_name_plural': 'exports',
                        'db_table': 'retail_exportjob',
                        'ordering': ['-created_at'],
                        'indexes': [models.Index(condition=models.Q(('status__in', ['queued', 'running'])), fields=['created_at'], name='export_job_unfinished')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_posbackoffice, content_type_to_retail),
    ]
