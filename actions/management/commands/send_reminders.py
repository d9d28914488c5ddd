from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from actions import reminders
from actions.models import Reminder


class Command(BaseCommand):
    help = (
        "Run one reminder sweep now and send what is due in this process, printing each "
        "reminder. Celery beat, or the web process itself on the embedded setup, does this "
        "every few minutes; this is for running it by hand or from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would be sent, without sending or recording anything.",
        )
        parser.add_argument(
            "--weekly-digest",
            action="store_true",
            help="Also send the weekly digest to those who take some occasions weekly.",
        )

    def handle(self, *args, dry_run: bool = False, weekly_digest: bool = False, **options):
        if dry_run:
            self._preview()
            return
        sweep = reminders.reminders_dispatch(queue=False)
        ids = list(sweep.queued)
        if weekly_digest:
            ids += reminders.digests_dispatch(queue=False)
        # Every pending reminder that is due, including retries whose backoff has passed
        # and rows a lost message left; retries still waiting are left alone.
        ids = sorted(set(ids) | set(self._pending()))
        done = reminders.reminders_send_pending(ids=ids)
        counts = dict.fromkeys(Reminder.Status.values, 0)
        for reminder in done:
            counts[reminder.status] += 1
            label = {"sent": "sent", "skipped": "skipped", "failed": "FAILED"}.get(
                reminder.status, "retry later"
            )
            self.stdout.write(f"{label:<11} {reminders.describe(reminder)}")
        if sweep.waiting:
            its = "its" if sweep.waiting == 1 else "their"
            self.stdout.write(f"{sweep.waiting} waiting for {its} hour (the job sweep sends them).")
        if sweep.follow_ups_created:
            self.stdout.write(f"{sweep.follow_ups_created} follow-up(s) scheduled.")
        self.stdout.write(
            self.style.SUCCESS(
                f"{counts['sent']} sent, {counts['skipped']} skipped (no longer applies or "
                f"turned off), {counts['pending']} to retry, {counts['failed']} failed."
            )
        )

    def _pending(self) -> list[int]:
        return list(
            Reminder.objects.filter(
                status=Reminder.Status.PENDING, next_attempt_at__lte=timezone.now()
            ).values_list("pk", flat=True)
        )

    def _preview(self) -> None:
        dues = reminders.reminders_preview()
        users = get_user_model().objects.in_bulk({due.recipient_id for due in dues})
        for due in dues:
            line = reminders.describe(due, recipient=users.get(due.recipient_id))
            self.stdout.write(f"would send  {line}")
        self.stdout.write(
            self.style.SUCCESS(f"{len(dues)} reminder(s) would be sent. Nothing was recorded.")
        )
