"""A session's action items for an issue tracker: rows that Jira's CSV importer maps by their
column names (Summary, Issue Type, Assignee, Due date, Priority, Labels, Description), and the
same as JSON.

- Priority comes from the finding's quadrant on the impact × effort matrix.
- Labels: the pillar and the workload, as Jira labels (no spaces).
- External issue ID: the action's id, the same in every export, so that importing again
  updates the issues made the first time instead of making new ones. Issue key: the tracker
  key recorded on the action, when there is one.
Cancelled actions are left out.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from django.conf import settings
from django.db.models import F, Prefetch
from django.urls import reverse

from actions.findings import finding_position, missing_practices, practice_links
from actions.models import ActionItem, Finding, Rating
from questionnaires.risk import Risk
from reviews.models import ReviewSession

ISSUE_TYPE = "Task"
# Jira's default priorities, from the quadrant: high impact first, low effort before high.
PRIORITIES: dict[str, str] = {
    Finding.Quadrant.QUICK_WIN: "Highest",
    Finding.Quadrant.MAJOR_PROJECT: "High",
    Finding.Quadrant.FILL_IN: "Medium",
    Finding.Quadrant.THANKLESS: "Low",
    Finding.Quadrant.UNRATED: "Medium",
}
EXTERNAL_ID_PREFIX = "pillarwise-"
# Column names as Jira's CSV importer names the fields it maps them to (Labels twice: one
# label per column, Jira's way of giving a field several values).
COLUMNS = [
    "Summary",
    "Issue Type",
    "Assignee",
    "Due date",
    "Priority",
    "Labels",
    "Labels",
    "Description",
    "External issue ID",
    "Issue key",
]


def label(text: str) -> str:
    """A Jira label: no spaces (Jira splits labels on them), lower case, at most 255."""
    return re.sub(r"[^\w.-]+", "-", text.strip().lower()).strip("-")[:255] or "none"


def _actions(session: ReviewSession) -> list[ActionItem]:
    ratings = Rating.objects.select_related("user")
    return list(
        ActionItem.objects.filter(session=session)
        .exclude(status=ActionItem.Status.CANCELLED)
        .select_related(
            "owner",
            "workload",
            "question__pillar",
            "choice__question__pillar",
            "finding__question__pillar",
        )
        .prefetch_related(Prefetch("finding__ratings", ratings))
        .order_by(F("due_on").asc(nulls_last=True), "created_at", "pk")
    )


# Improvement links listed in one description, at most.
MAX_LINKS = 10


def _description(action: ActionItem, missing: dict[int, list]) -> str:
    lines = []
    if action.description:
        lines += [action.description, ""]
    if action.measurable_outcome:
        lines += [f"Measurable outcome: {action.measurable_outcome}", ""]
    question = action.finding.question if action.finding else action.question
    if action.finding and question:
        lines.append(
            f"Finding: {Risk(action.finding.risk).label} in {question.pillar.name}: "
            f"{question.title}"
        )
    elif question:
        lines.append(f"Question ({question.pillar.name}): {question.title}")
    links: list[tuple[str, str]] = []
    if action.choice:
        lines.append(f"Best practice to put in place: {action.choice.title}")
        links = practice_links(action.choice)
    elif question:
        # The best practices the finding's question still misses, and their guidance.
        for choice in missing.get(question.pk, []):
            links += [(f"{choice.title}: {text}", url) for text, url in practice_links(choice)]
    if not links and question and question.helpful_url:
        links = [("About the question", question.helpful_url)]
    if links:
        lines += ["", "Improvement links:"]
        lines += [f"- {text}: {url}" for text, url in links[:MAX_LINKS]]
    url = settings.SITE_URL + reverse("actions:action_detail", args=[action.uuid])
    lines += ["", f"In Pillarwise: {url}"]
    return "\n".join(lines).strip()


def tracker_rows(session: ReviewSession) -> list[dict[str, Any]]:
    """One row per action of the session (not cancelled), as the JSON export gives them."""
    rows = []
    actions = _actions(session)
    missing = missing_practices(
        session, {a.finding.question_id for a in actions if a.finding and not a.choice}
    )
    for action in actions:
        quadrant = (
            finding_position(action.finding).quadrant
            if action.finding
            else Finding.Quadrant.UNRATED
        )
        question = action.finding.question if action.finding else action.question
        pillar = question.pillar.name if question else ""
        rows.append(
            {
                "summary": action.title,
                "issueType": ISSUE_TYPE,
                "assignee": action.owner.email if action.owner else "",
                "dueDate": action.due_on.isoformat() if action.due_on else "",
                "priority": PRIORITIES[quadrant],
                "quadrant": quadrant,
                "labels": [label(pillar)] * bool(pillar) + [label(action.workload.name)],
                "description": _description(action, missing),
                "externalId": f"{EXTERNAL_ID_PREFIX}{action.uuid}",
                "issueKey": action.external_key,
                "status": action.status,
                "percentComplete": action.percent_complete,
            }
        )
    return rows


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def tracker_csv(session: ReviewSession) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in tracker_rows(session):
        labels = (row["labels"] + ["", ""])[:2]
        writer.writerow(
            _cell(value)
            for value in [
                row["summary"],
                row["issueType"],
                row["assignee"],
                row["dueDate"],
                row["priority"],
                *labels,
                row["description"],
                row["externalId"],
                row["issueKey"],
            ]
        )
    return out.getvalue()
