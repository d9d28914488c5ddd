"""Pages across workloads: the team dashboard (the home page), "My actions" and the
finance view of cost findings."""

from __future__ import annotations

import csv
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from actions import dashboards
from actions.forms import MyActionsFilterForm
from actions.models import ActionItem
from questionnaires.risk import Risk
from reviews.models import Membership

SORT_COLUMNS = [
    ("name", "Workload"),
    ("team", "Team"),
    ("high", f"{Risk.HIGH.short_label} risks"),
    ("medium", f"{Risk.MEDIUM.short_label} risks"),
    ("next_review", "Next review"),
    ("overdue", "Overdue actions"),
]


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    rows, sort = dashboards.dashboard_rows(request.user, sort=request.GET.get("sort", ""))
    memberships = list(Membership.objects.for_user(request.user).select_related("team"))
    mine = dashboards.my_actions(request.user, statuses=ActionItem.OPEN_STATUSES)
    today = timezone.localdate()
    columns = []
    for key, label in SORT_COLUMNS:
        active = sort.lstrip("-") == key
        descending = active and sort.startswith("-")
        # Counts read best largest first; names and dates in their natural order.
        first = "-" if key in ("high", "medium", "overdue") else ""
        next_sort = (key if descending else f"-{key}") if active else f"{first}{key}"
        columns.append(
            {
                "key": key,
                "label": label,
                "active": active,
                "aria_sort": ("descending" if descending else "ascending") if active else "",
                "next": next_sort,
                "numeric": key in ("high", "medium", "overdue"),
            }
        )
    return render(
        request,
        "actions/dashboard.html",
        {
            "nav": "dashboard",
            "rows": rows,
            "sort": sort,
            "columns": columns,
            "memberships": memberships,
            "show_team": len(memberships) > 1,
            "totals": {
                "high": sum(w.high_count for w in rows),
                "medium": sum(w.medium_count for w in rows),
                "overdue": sum(w.overdue_count for w in rows),
            },
            "my_open": mine.count(),
            "my_overdue": mine.overdue(today).count(),
            "today": today,
        },
    )


@require_safe
def my_actions(request: HttpRequest) -> HttpResponse:
    data = request.GET if "filtered" in request.GET else None
    form = MyActionsFilterForm(data, initial={"status": list(ActionItem.OPEN_STATUSES)})
    if data is None:
        statuses, due = list(ActionItem.OPEN_STATUSES), ""
    elif form.is_valid():
        statuses, due = form.cleaned_data["status"], form.cleaned_data["due"]
    else:
        statuses, due = [], ""
    actions = list(dashboards.my_actions(request.user, statuses=statuses, due=due))
    today = timezone.localdate()
    return render(
        request,
        "actions/my_actions.html",
        {
            "nav": "my_actions",
            "form": form,
            "actions": actions,
            "statuses": ActionItem.Status.choices,
            "selected_statuses": statuses,
            "due": due,
            "overdue_count": sum(1 for a in actions if a.is_overdue(today)),
            "filtered": data is not None,
            "has_any": bool(actions) or ActionItem.objects.filter(owner=request.user).exists(),
            "here": request.get_full_path(),
        },
    )


@require_safe
def cost_findings(request: HttpRequest) -> HttpResponse:
    memberships = list(Membership.objects.for_user(request.user).select_related("team"))
    team = None
    if team_param := request.GET.get("team", ""):
        try:
            wanted = UUID(team_param)
        except ValueError:
            wanted = None
        team = next((m.team for m in memberships if m.team.uuid == wanted), None)
    overview = dashboards.cost_overview(request.user, team=team)
    if request.GET.get("format") == "csv":
        return _cost_csv(overview)
    return render(
        request,
        "actions/cost_findings.html",
        {
            "nav": "cost",
            "overview": overview,
            "memberships": memberships,
            "team": team,
            "today": timezone.localdate(),
        },
    )


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _cost_csv(overview: dashboards.CostOverview) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="cost-findings-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "type",
            "team",
            "workload",
            "review",
            "question",
            "risk",
            "action",
            "status",
            "owner",
            "due",
            "percent complete",
            "monthly saving",
            "currency",
            "tracker key",
            "tracker link",
        ]
    )
    for finding in overview.findings:
        session = finding.session
        writer.writerow(
            _cell(v)
            for v in [
                "finding",
                session.workload.team.name,
                session.workload.name,
                session.title,
                finding.question.title,
                Risk(finding.risk).label,
                "",
                "accepted risk" if finding.accepted_at else "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    for action in overview.actions:
        writer.writerow(
            _cell(v)
            for v in [
                "action",
                action.workload.team.name,
                action.workload.name,
                action.session.title if action.session else "",
                action.question.title if action.question else "",
                "",
                action.title,
                action.get_status_display(),
                (action.owner.get_full_name() or action.owner.username) if action.owner else "",
                action.due_on.isoformat() if action.due_on else "",
                action.percent_complete,
                action.monthly_saving if action.monthly_saving is not None else "",
                action.currency if action.monthly_saving is not None else "",
                action.external_key,
                action.external_url,
            ]
        )
    return response
