"""`make bench` part: the action-plan PDF.

Builds, in a fresh database, a workload with a review on the framework lens fully answered
(mixed risks, notes on some questions), its findings rated, and 150 actions with owners, due
dates and savings. Then times the whole job (plan_document_generate: the queries, the
template, WeasyPrint, the storage) against WeasyPrint alone rendering the same HTML, median
of RUNS each, for A4 and for US Letter, and saves PNGs of two pages with pdftoppm.

The database is a SQLite file in a temporary folder, or, when DATABASE_URL is set, a
PostgreSQL database named pillarwise_bench on that server (dropped and created again).
`populate` is also used by the tests, so the data measured here is data the tests check.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

RUNS = 5
ACTIONS = 150
BENCH_DATABASE = "pillarwise_bench"
PNG_PAGES = (1, 5)

NOTES = [
    "Discussed with **operations**: the runbook exists but is not versioned.\n\n"
    "- Owner agreed to move it to the repository\n- Review it after the next incident",
    "Finance asked for a monthly report; the current one is a spreadsheet updated by hand. "
    "A long sentence that has to wrap inside the notes box because it goes on and on about "
    "dashboards, budgets, forecasts and the people who read them every month.",
    "See `alerts.yaml` in the platform repository.\n\n1. Lower the threshold\n2. Page the "
    "on-call engineer\n\n<script>alert('never rendered')</script>",
]
STATUSES = ["open", "open", "in_progress", "blocked", "done"]
EFFORTS = ["xs", "s", "m", "l", "xl"]


# --- Data ------------------------------------------------------------------------------------


def _medium_choices(question) -> set[str]:
    """The choices named by the question's medium-risk rule, when it is a plain AND."""
    for rule in question.risk_rules.all():
        condition = rule.condition
        if (
            rule.risk == "MEDIUM"
            and condition != "default"
            and not {"|", "!", "("} & set(condition)
        ):
            return {part.strip() for part in condition.split("&&")}
    return set()


def answer_all(*, session, user, limit: int | None = None) -> None:
    """Answer the session's questions with a mix of risks: some fully in place, some
    medium, some high, some not applicable; Markdown notes on every third."""
    from reviews.answers import answer_save_notes, answer_set_applicability, answer_set_exact
    from reviews.models import Answer

    answers = list(
        Answer.objects.filter(session=session)
        .select_related("question")
        .prefetch_related("question__choices", "question__risk_rules")
        .order_by("question__pillar__lens_id", "question__pillar__order", "question__order")
    )[:limit]
    for i, answer in enumerate(answers):
        choices = list(answer.question.choices.all())
        practices = {c.ident for c in choices if not c.is_none_of_these}
        nones = {c.ident for c in choices if c.is_none_of_these}
        if i % 7 == 6:
            answer_set_applicability(
                answer=answer, user=user, not_applicable=True, reason="out_of_scope"
            )
        else:
            kind = i % 4
            if kind == 0:
                selected = practices
            elif kind == 1:
                selected = _medium_choices(answer.question) or set(sorted(practices)[:1])
            elif kind == 2:
                selected = set(sorted(practices)[:1])
            else:
                selected = nones or set()
            answer_set_exact(answer=answer, user=user, selected=selected)
        if i % 3 == 0:
            answer.refresh_from_db()
            answer_save_notes(
                answer=answer,
                user=user,
                text=NOTES[(i // 3) % len(NOTES)],
                base_revision=answer.notes_revision,
            )


def populate(
    *,
    session,
    facilitator,
    owners: list,
    raters: dict[str, list],
    actions: int = ACTIONS,
    answer_limit: int | None = None,
) -> list:
    """Fill a session: answers (see answer_all), findings, ratings (impact by raters["impact"],
    effort by raters["effort"], every fifth finding left unrated), one accepted risk and
    `actions` actions owned in turn by `owners`, due over the next six months, savings on
    cost findings. Returns the actions."""
    from django.utils import timezone

    from actions import findings as analysis
    from actions import items
    from questionnaires.models import FrameworkPillar

    answer_all(session=session, user=facilitator, limit=answer_limit)
    analysis.findings_sync(session=session)
    findings = list(analysis.findings_ordered(session))
    practices = analysis.missing_practices(session, [f.question_id for f in findings])
    for n, finding in enumerate(findings):
        if n % 5 == 4:
            continue
        for k, user in enumerate(raters.get("impact", [])):
            analysis.rating_set(finding=finding, user=user, kind="impact", value=(n + k) % 5 + 1)
        for k, user in enumerate(raters.get("effort", [])):
            analysis.rating_set(
                finding=finding, user=user, kind="effort", value=(n * 2 + k) % 5 + 1
            )
    if len(findings) > 3:
        analysis.finding_accept(
            finding=findings[-1],
            user=facilitator,
            reason="Legacy batch job, retired next quarter.",
            until=timezone.localdate() + timedelta(days=120),
        )
        findings = findings[:-1]
    created = []
    today = timezone.localdate()
    for i in range(actions):
        finding = findings[i % len(findings)] if findings else None
        options = practices.get(finding.question_id, []) if finding else []
        practice = options[(i // max(len(findings), 1)) % len(options)] if options else None
        title = practice.title if practice else "Review the runbooks"
        is_cost = (
            finding is not None and finding.question.pillar.framework_pillar == FrameworkPillar.COST
        )
        created.append(
            items.action_create(
                workload=session.workload,
                session=session,
                finding=finding,
                choice=practice,
                user=facilitator,
                title=f"{title} (#{i + 1})",
                description=practice.improvement_text if practice else "",
                measurable_outcome=f"Checked in the monthly review: step {i + 1} in place.",
                owner=owners[i % len(owners)],
                due_on=today + timedelta(days=14 + 30 * (i % 6)),
                status=STATUSES[i % len(STATUSES)],
                effort=EFFORTS[i % len(EFFORTS)],
                monthly_saving=Decimal(40 * (i % 9 + 1)) if is_cost or i % 10 == 0 else None,
                currency="EUR" if i % 25 == 0 else "USD",
            )
        )
    return created


def build(*, actions: int = ACTIONS):
    """A team, its people, a critical e-commerce workload and its review, populated."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from reviews import sessions, teams
    from reviews.models import Membership, Participant, Workload, WorkloadType

    User = get_user_model()
    people = {}
    for username, first, last, role in (
        ("sam", "Sam", "Architect", "admin"),
        ("olivia", "Olivia", "Owner", "member"),
        ("omar", "Omar", "Operations", "member"),
        ("sofia", "Sofia", "Security", "member"),
        ("fred", "Fred", "Finance", "finance"),
    ):
        people[username] = (
            User.objects.create_user(
                username=username,
                email=f"{username}@example.com",
                first_name=first,
                last_name=last,
                password=None,
            ),
            role,
        )
    team = teams.team_create(name="Commerce", user=people["sam"][0])
    for user, role in list(people.values())[1:]:
        Membership.objects.create(team=team, user=user, role=role)
    users = {name: user for name, (user, _) in people.items()}
    workload = Workload.objects.create(
        team=team,
        name="Storefront",
        workload_type=WorkloadType.CRITICAL_ECOMMERCE,
        is_critical=True,
        owner=users["olivia"],
    )
    session = sessions.session_create(
        workload=workload,
        user=users["sam"],
        title="Quarterly review",
        kind="critical_quarterly",
        review_starts_at=timezone.now() - timedelta(days=3),
    )
    for name, role, confirmed in (
        ("olivia", "workload_owner", True),
        ("omar", "operations", True),
        ("sofia", "security", False),
        ("fred", "finance", True),
    ):
        Participant.objects.create(
            session=session, user=users[name], role=role, confirmed_attendance=confirmed
        )
    populate(
        session=session,
        facilitator=users["sam"],
        owners=[users["olivia"], users["omar"], users["sofia"], users["fred"]],
        raters={
            "impact": [users["olivia"], users["fred"]],
            "effort": [users["omar"], users["sofia"]],
        },
        actions=actions,
    )
    return session


# --- Measuring -------------------------------------------------------------------------------


def _database_url(tmp: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{tmp / 'bench.sqlite3'}"
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    server = urlunsplit(parts._replace(path="/postgres", query=""))
    with psycopg.connect(server, autocommit=True) as db:
        name = sql.Identifier(BENCH_DATABASE)
        db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        db.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}"))


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def measure() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="pillarwise-bench-pdf-"))
    os.environ["DATABASE_URL"] = _database_url(tmp)
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    os.environ.pop("REDIS_URL", None)  # nothing is queued: the job runs here, timed
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from actions import pdf
    from actions.models import PlanDocument

    call_command("migrate", verbosity=0)
    call_command("load_lenses", verbosity=0)
    started = time.perf_counter()
    session = build()
    print(
        f"database: {connection.vendor}; data built in {time.perf_counter() - started:.1f} s: "
        f"{session.answers.exclude(risk='UNANSWERED').count()} answers, "
        f"{session.findings.count()} findings, {session.actions.count()} actions; "
        f"{os.cpu_count()} CPUs, load average {_load()}"
    )
    version = 0

    def job(paper: str) -> PlanDocument:
        nonlocal version
        version += 1
        document = PlanDocument.objects.create(
            session=session, version=version, paper=paper, queued_at=timezone.now()
        )
        result = pdf.plan_document_generate(document_id=document.pk)
        assert result is not None and result.status == "done", result and result.last_error
        return result

    print(
        f"{'paper':<8}{'job':>8}{'WeasyPrint':>12}{'ratio':>7}   "
        f"{'job CPU':>8}{'WP CPU':>8}{'ratio':>7}{'HTML':>8}{'pages':>7}{'size':>9}"
    )
    first_a4 = None
    for paper in PlanDocument.Paper.values:
        warm = job(paper)  # warm up: fonts, templates, the lens rows
        # The very HTML that job rendered (same version and time on the cover).
        html = pdf.plan_html(
            session, paper=paper, version=warm.version, generated_at=warm.started_at
        )
        pdf.render_pdf(html)
        html_wall = statistics.median(
            _timed(lambda paper=paper: pdf.plan_html(session, paper=paper))[0] for _ in range(RUNS)
        )
        # Alternate the two so that both see the same load on the machine.
        jobs, renders = [], []
        for _ in range(RUNS):
            jobs.append(_timed(lambda paper=paper: job(paper)))
            renders.append(_timed(lambda html=html: pdf.render_pdf(html)))
        job_wall, job_cpu = (statistics.median(t) for t in zip(*jobs, strict=True))
        wp_wall, wp_cpu = (statistics.median(t) for t in zip(*renders, strict=True))
        document = PlanDocument.objects.filter(session=session, paper=paper).latest("version")
        print(
            f"{paper:<8}{job_wall:>7.2f}s{wp_wall:>11.2f}s{job_wall / wp_wall:>7.2f}   "
            f"{job_cpu:>7.2f}s{wp_cpu:>7.2f}s{job_cpu / wp_cpu:>7.2f}{html_wall:>7.2f}s"
            f"{document.page_count:>7}{document.size_bytes / 1024:>7.0f}KB"
        )
        if paper == PlanDocument.Paper.A4:
            first_a4 = document
    print(
        f"median of {RUNS} runs each, alternated, after a warm-up; HTML: the queries and the "
        "template alone. Target: the job under 5 s and the ratio under 1.2. "
        f"Load average now {_load()}: wall times grow with it, CPU times much less."
    )
    if first_a4 is not None:
        path = Path(default_storage.path(first_a4.file.name))
        print(f"PDF (A4): {path}")
        if shutil.which("pdftoppm"):
            for page in PNG_PAGES:
                prefix = tmp / f"plan-a4-page{page}"
                subprocess.run(
                    ["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page),
                     "-singlefile", str(path), str(prefix)],
                    check=True,
                )  # fmt: skip
                print(f"page {page}: {prefix}.png")


def main() -> None:
    from django.apps import apps

    if apps.ready:
        # Another benchmark of this run configured Django already: measure in a fresh process.
        subprocess.run([sys.executable, "-m", "tests.bench.pdf"], check=True)
        return
    measure()


if __name__ == "__main__":
    main()
