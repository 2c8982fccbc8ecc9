"""posbackoffice's one table: the CSV exports the worker writes (posbackoffice.exports). It belongs to a
merchant account, named by string: posbackoffice never imports accounts. Its table keeps the name it had
in retail, where it was first made (posbackoffice migration 0001, retail migration 0007)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from posbackoffice.jobs import Leased


class ExportJob(Leased):
    """A CSV export run by the worker: progress for the bar, the file when done. The worker claims it
    (`lease_until`, extended at every progress report); a job whose worker died is taken again by the
    next sweep (posbackoffice.tasks.sweep_exports) and restarted, MAX_TRIES times in all. Read through
    accounts.tenancy.scoped like every merchant's row."""

    MAX_TRIES = 3

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=40)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveBigIntegerField(default=0)
    rows_written = models.PositiveBigIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "retail_exportjob"
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], condition=Q(status__in=["queued", "running"]),
                                name="export_job_unfinished")]

    def __str__(self):
        return f"{self.kind} export {self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, self.rows_written * 100 // self.total_rows)
