"""Rows in flight when the job mechanism arrives: a reminder being sent is "running" now
(it was "sending"), every running row gets a lease from when it was claimed, so the sweep
takes it again if its worker is gone, and a reminder waiting for a retry keeps its wait
(its old queued_at was the retry's time) and is sent by the sweep once it is over."""

from datetime import timedelta

from django.db import migrations
from django.db.models import F
from django.utils import timezone

LEASES = {
    "PlanDocument": timedelta(minutes=3),
    "PlanRecap": timedelta(minutes=2),
    "Reminder": timedelta(minutes=2),
}


def forward(apps, schema_editor):
    now = timezone.now()
    Reminder = apps.get_model("actions", "Reminder")
    Reminder.objects.filter(status="sending").update(status="running")
    Reminder.objects.filter(status="pending", queued_at__gt=now).update(
        next_attempt_at=F("queued_at"), queued_at=None
    )
    for name, lease in LEASES.items():
        model = apps.get_model("actions", name)
        running = model.objects.filter(status="running")
        running.filter(started_at__isnull=False).update(lease_expires_at=F("started_at") + lease)
        running.filter(started_at__isnull=True).update(lease_expires_at=now)


def backward(apps, schema_editor):
    Reminder = apps.get_model("actions", "Reminder")
    Reminder.objects.filter(status="running").update(status="sending")


class Migration(migrations.Migration):
    dependencies = [("actions", "0002_job_rows")]

    operations = [migrations.RunPython(forward, backward)]
