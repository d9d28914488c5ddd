"""`make bench` part: one reminder dispatcher sweep at three sizes.

Builds (bulk_create) a team with workloads, review sessions spread over the past year and
the next month in every phase, four participants per session with half-done checklists, ten
action items per session due around today in every status, accepted risks expiring and next
reviews coming due; then times one sweep of the dispatcher (`reminders_dispatch`: scheduling
the monthly follow-ups, the set-based query per occasion, inserting the reminders, taking
the ids to queue) and counts its queries, at 1/100, 1/10 and all of 100,000 actions in
10,000 sessions. The reminders and follow-ups are deleted before each sweep, so each one
starts from nothing (the worst case: every reminder due is new); the data grows between
sizes. Sending is not part of the sweep (the worker does it).

The database is a SQLite file in a temporary folder, or, when DATABASE_URL is set, a
PostgreSQL database named pillarwise_bench_reminders on that server (dropped and created
again). The target: the full sweep under 10 s, and the number of queries independent of the
size (on PostgreSQL; SQLite limits a statement to 999 parameters, so Django splits the big
inserts there).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DATABASE = "pillarwise_bench_reminders"
FULL_SESSIONS = 10_000
ACTIONS_PER_SESSION = 10
SESSIONS_PER_WORKLOAD = 10
PARTICIPANTS_PER_SESSION = 4
USERS = 400
SCALES = (100, 10, 1)  # 1/100, 1/10, all
BATCH = 5_000


def _database_url(tmp: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{tmp / 'bench.sqlite3'}"
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    with psycopg.connect(make_conninfo(**{**params, "dbname": "postgres"}), autocommit=True) as db:
        db.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(BENCH_DATABASE)
            )
        )
        db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DATABASE)))
    return urlunsplit(urlsplit(url)._replace(path=f"/{BENCH_DATABASE}"))


class Builder:
    """Adds sessions (with their workloads, participants, actions and findings) in bulk."""

    def __init__(self):
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from questionnaires.models import Question
        from reviews.models import Membership, Team

        User = get_user_model()
        self.random = random.Random(5)
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.team = Team.objects.create(name="Bench")
        User.objects.bulk_create(
            User(username=f"user{n}", email=f"user{n}@example.com") for n in range(USERS)
        )
        self.users = list(User.objects.order_by("pk").values_list("pk", flat=True))
        Membership.objects.bulk_create(
            Membership(team=self.team, user_id=pk, role="member") for pk in self.users
        )
        self.questions = list(Question.objects.values_list("pk", flat=True)[:200])
        self.sessions = 0

    def add_sessions(self, count: int) -> None:
        from actions.models import ActionItem, Finding
        from reviews.models import Participant, ReviewSession, Workload
        from reviews.sessions import plan_dates

        rnd, today, now = self.random, self.today, self.now
        workloads = Workload.objects.bulk_create(
            Workload(
                team=self.team,
                name=f"Workload {self.sessions // SESSIONS_PER_WORKLOAD + n}",
                workload_type="internal",
                owner_id=rnd.choice(self.users),
                next_review_due_on=today + timedelta(days=rnd.randint(-60, 120)),
            )
            for n in range(count // SESSIONS_PER_WORKLOAD)
        )
        sessions = []
        for n in range(count):
            starts = now + timedelta(days=rnd.randint(-365, 30), hours=rnd.randint(-4, 4))
            age = (now - starts).days
            if age < 0:
                phase = "preparation"
            elif age < 7:
                phase = "analysis"
            elif age < 21:
                phase = "action_plan"
            elif age < 300:
                phase = "follow_up"
            else:
                phase = "closed"
            published = starts + timedelta(days=21) if phase in ("follow_up", "closed") else None
            sessions.append(
                ReviewSession(
                    workload=workloads[n // SESSIONS_PER_WORKLOAD],
                    title=f"Review {self.sessions + n}",
                    phase=phase,
                    review_starts_at=starts,
                    plan_published_at=published,
                    **plan_dates(starts),
                )
            )
        ReviewSession.objects.bulk_create(sessions, batch_size=BATCH)  # sets their pks
        participants, actions, findings = [], [], []
        statuses = ["open", "open", "in_progress", "blocked", "done", "done", "cancelled"]
        for session in sessions:
            session_id = session.pk
            people = rnd.sample(self.users, PARTICIPANTS_PER_SESSION)
            for i, user_id in enumerate(people):
                participants.append(
                    Participant(
                        session_id=session_id,
                        user_id=user_id,
                        role="facilitator" if i == 0 else "operations",
                        read_documentation=rnd.random() < 0.5,
                        brought_metrics=rnd.random() < 0.5,
                        confirmed_attendance=rnd.random() < 0.7,
                    )
                )
            for i in range(ACTIONS_PER_SESSION):
                actions.append(
                    ActionItem(
                        workload_id=session.workload_id,
                        session_id=session_id,
                        title=f"Action {i} of {session_id}",
                        owner_id=rnd.choice(people),
                        due_on=today + timedelta(days=rnd.randint(-120, 180)),
                        status=rnd.choice(statuses),
                        percent_complete=rnd.randint(0, 90),
                    )
                )
            if rnd.random() < 0.1 and self.questions:
                findings.append(
                    Finding(
                        session_id=session_id,
                        question_id=rnd.choice(self.questions),
                        risk="HIGH",
                        accepted_by_id=people[0],
                        accepted_at=now,
                        accepted_until=today + timedelta(days=rnd.randint(-30, 60)),
                    )
                )
        Participant.objects.bulk_create(participants, batch_size=BATCH)
        ActionItem.objects.bulk_create(actions, batch_size=BATCH)
        # Last changed when the plan was made, not now (a change restarts the overdue clock).
        ActionItem.objects.filter(session_id__in=[s.pk for s in sessions]).update(
            updated_at=now - timedelta(days=200)
        )
        Finding.objects.bulk_create(findings, batch_size=BATCH, ignore_conflicts=True)
        self.sessions += count


def measure() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="pillarwise-bench-reminders-"))
    os.environ["DATABASE_URL"] = _database_url(tmp)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from actions import reminders
    from actions.models import ActionItem, FollowUp, Reminder

    call_command("migrate", verbosity=0)
    call_command("load_lenses", verbosity=0)
    builder = Builder()
    rows = []
    for scale in SCALES:
        target = FULL_SESSIONS // scale
        started = time.perf_counter()
        builder.add_sessions(target - builder.sessions)
        built = time.perf_counter() - started
        Reminder.objects.all().delete()
        FollowUp.objects.all().delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            sweep = reminders.reminders_dispatch(queue=False)
            seconds = time.perf_counter() - started
        # The common case: the next sweep, a few minutes later, finds everything created.
        started = time.perf_counter()
        again = reminders.reminders_dispatch(queue=False)
        again_seconds = time.perf_counter() - started
        assert not again.queued or set(again.queued) <= set(sweep.queued), "created twice"
        rows.append(
            {
                "actions": ActionItem.objects.count(),
                "sessions": builder.sessions,
                "seconds": seconds,
                "again": again_seconds,
                "queries": len(queries),
                "reminders": Reminder.objects.count(),
                "follow_ups": sweep.follow_ups_created,
                "queued": len(sweep.queued),
                "built": built,
            }
        )
        print(
            f"  built {rows[-1]['actions']:,} actions in {builder.sessions:,} sessions "
            f"({built:.1f} s)",
            flush=True,
        )
    base = rows[0]["seconds"]
    print(f"database: {connection.vendor}")
    print(
        f"{'actions':>9}{'sessions':>10}{'time':>9}{'queries':>9}{'reminders':>11}"
        f"{'follow-ups':>12}{'time ratio':>12}{'next sweep':>12}"
    )
    for row in rows:
        print(
            f"{row['actions']:>9,}{row['sessions']:>10,}{row['seconds']:>8.2f}s"
            f"{row['queries']:>9}{row['reminders']:>11,}{row['follow_ups']:>12,}"
            f"{row['seconds'] / base:>11.1f}x{row['again']:>11.2f}s"
        )
    full = rows[-1]
    same = len({row["queries"] for row in rows}) == 1
    print(
        f"target: the full sweep under 10 s ({'met' if full['seconds'] < 10 else 'NOT met'}: "
        f"{full['seconds']:.2f} s); queries independent of the size "
        f"({'yes' if same else 'no'}: {', '.join(str(row['queries']) for row in rows)})"
    )
    print(
        "(ratios against the 1/100 sweep, in this process and run; sending is not timed; "
        "next sweep: the same sweep again at once, when everything due exists already)"
    )


def main() -> None:
    from django.apps import apps

    if apps.ready:
        # Another benchmark of this run configured Django already: measure in a fresh process.
        subprocess.run([sys.executable, "-m", "tests.bench.reminders"], check=True)
        return
    measure()


if __name__ == "__main__":
    main()
