"""Helpers for the long time-travel test of the cadence: the clock moves an hour at a time,
the day's events happen at their hour, and each hour the dispatcher and the job sweep run as
production runs them (what they queue is sent by the worker, here in this process); every
email is captured with the moment it went out."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.core import mail
from django.test import TestCase
from django.utils import timezone

from actions import reminders
from actions.models import PlanDocument, PlanRecap, Reminder
from reviews.jobs import job_claim, job_finish, job_sweep
from tests.conftest import travel

# The jobs that send what this test captures: the job sweep (reviews.jobs) runs for them.
EMAIL_JOBS = (Reminder, PlanRecap)

Events = dict[tuple[date, int], Callable[[], object]]


@dataclass(frozen=True)
class Email:
    sent_at: datetime  # UTC
    to: str  # the recipient's user name
    occasion: str
    subject: str
    key: str  # the reminder's key, or the subject of another email

    def local(self, zones: dict[str, str]) -> datetime:
        return self.sent_at.astimezone(zoneinfo.ZoneInfo(zones[self.to]))


def occasion_of(message: mail.EmailMessage) -> str:
    """The occasion of an email: a reminder says it in its header, the plan's recap by its
    subject; anything else is named by its subject, so that it shows in a comparison."""
    key = message.extra_headers.get("X-Pillarwise-Reminder")
    if key:
        return key.split(":")[0]
    if message.subject.startswith("Action plan published"):
        return "plan_published"
    return f"other: {message.subject}"


def hours(start: date, end: date) -> Iterator[tuple[date, int]]:
    day = start
    while day <= end:
        for hour in range(24):
            yield day, hour
        day += timedelta(days=1)


def committed() -> TestCase:
    """Run what the block queues on commit as it commits, as outside a test transaction
    (the worker then sends it: Celery runs tasks in this process here)."""
    return TestCase.captureOnCommitCallbacks(execute=True)  # type: ignore[return-value]


def run(start: date, end: date, events: Events) -> list[Email]:
    """Every hour from `start` 00:00 to `end` 23:00 (UTC): that hour's event, then one
    dispatcher sweep and one job sweep. Returns every email sent, in order."""
    emails: list[Email] = []
    for day, hour in hours(start, end):
        before = len(mail.outbox)
        with travel(day, hour):
            if (day, hour) in events:
                with committed():
                    events[(day, hour)]()
            with committed():
                reminders.reminders_dispatch()
            with committed():
                for model in EMAIL_JOBS:
                    job_sweep(model)
            now = timezone.now().astimezone(UTC)
        for message in mail.outbox[before:]:
            for address in message.to:
                key = message.extra_headers.get("X-Pillarwise-Reminder") or message.subject
                emails.append(
                    Email(now, address.split("@")[0], occasion_of(message), message.subject, key)
                )
    return emails


def pdf_stub(document_id: int) -> None:
    """The plan's PDF, done at once: the browser that renders it has tests of its own."""
    document = job_claim(PlanDocument, document_id)
    if document is not None:
        job_finish(document, file=f"plans/{document.pk}.pdf", page_count=1)
