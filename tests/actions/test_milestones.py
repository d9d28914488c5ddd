"""Milestones: frozen snapshots of a workload (answers, risk counts per pillar, actions),
their comparison, and the workload panel with the risk trend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from actions import items, milestones
from questionnaires.models import Lens
from reviews import answers, sessions
from reviews.models import Milestone
from tests.actions.analysis_helpers import analysed, framework_answer, set_risk
from tests.conftest import HTMX


def url(name, *args):
    return reverse(f"actions:{name}", args=args)


def save(cast, name="", **kwargs):
    return milestones.milestone_create(
        workload=cast.workload, user=cast.admin, kind=Milestone.Kind.MANUAL, name=name, **kwargs
    )


@pytest.fixture
def answered(review, cast):
    set_risk(review, "manage-service-limits", "HIGH", cast.admin)
    set_risk(review, "identities", "MEDIUM", cast.admin)
    set_risk(review, "priorities", "NONE", cast.admin)
    answers.answer_save_notes(
        answer=framework_answer(review, "priorities"),
        user=cast.admin,
        text="Agreed.",
        base_revision=0,
    )
    return review


def test_a_milestone_freezes_answers_risk_counts_and_actions(answered, cast):
    action = items.action_create(
        workload=cast.workload,
        session=answered,
        user=cast.admin,
        title="Quota alarms",
        owner=cast.member,
        due_on=timezone.localdate() + timedelta(days=5),
    )
    milestone = save(cast, name="Before the migration")
    snap = Milestone.objects.get(pk=milestone.pk).snapshot
    assert milestone.session == answered and milestone.name == "Before the migration"
    answers = {a["question"]: a for a in snap["answers"]}
    assert len(answers) == 57
    assert answers["manage-service-limits"]["risk"] == "HIGH"
    assert answers["priorities"]["notes"] == "Agreed."
    assert answers["priorities"]["choices"] == sorted(answers["priorities"]["choices"])
    assert len(answers["priorities"]["choices"]) == 6
    framework = Lens.objects.filter(is_framework=True).latest("version")
    assert answers["priorities"]["lens"] == framework.name
    assert answers["priorities"]["lens_version"] == framework.version
    reliability = next(p for p in snap["pillars"] if p["framework_pillar"] == "reliability")
    assert reliability["counts"]["HIGH"] == 1 and reliability["counts"]["UNANSWERED"] == 12
    assert snap["totals"]["HIGH"] == 1 and snap["totals"]["MEDIUM"] == 1
    assert sum(snap["totals"].values()) == 57
    assert snap["actions"] == [
        {
            "uuid": str(action.uuid),
            "title": "Quota alarms",
            "owner": "bob",
            "status": "open",
            "percent": 0,
            "due_on": action.due_on.isoformat(),
        }
    ]


def test_later_changes_never_alter_a_milestone(answered, cast):
    action = items.action_create(
        workload=cast.workload, session=answered, user=cast.admin, title="Quota alarms"
    )
    milestone = save(cast)
    frozen = Milestone.objects.get(pk=milestone.pk).snapshot
    set_risk(answered, "manage-service-limits", "NONE", cast.admin)
    answers.answer_save_notes(
        answer=framework_answer(answered, "priorities"),
        user=cast.admin,
        text="Changed.",
        base_revision=1,
    )
    items.action_update(
        action=action, user=cast.admin, changes={"status": "done", "title": "Renamed"}
    )
    assert Milestone.objects.get(pk=milestone.pk).snapshot == frozen
    later = save(cast)
    assert later.snapshot["totals"]["HIGH"] == 0
    assert later.snapshot["actions"][0]["status"] == "done"


def test_the_default_source_is_the_latest_session_with_answers(answered, cast, lenses):
    newer = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Not started",
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=60),
    )
    milestone = save(cast)
    assert milestone.session == answered, "the newer review has no answers yet"
    set_risk(newer, "priorities", "HIGH", cast.admin)
    assert save(cast).session == newer


def test_a_workload_without_answers_gets_an_empty_snapshot(cast):
    milestone = save(cast)
    assert milestone.session is None
    assert milestone.snapshot["answers"] == [] and milestone.snapshot["pillars"] == []
    assert milestone.name.startswith("Saved by hand · ")


def test_milestones_compare_risk_counts_and_changed_questions(answered, cast):
    first = save(cast, name="First")
    set_risk(answered, "manage-service-limits", "MEDIUM", cast.admin)
    set_risk(answered, "identities", "NONE", cast.admin)
    set_risk(answered, "govern-usage", "HIGH", cast.admin)
    second = save(cast, name="Second")
    comparison = milestones.milestone_compare(second, first)  # any order: earlier is "before"
    assert (comparison.before, comparison.after) == (first, second)
    rows = {row.label: row.cells for row in comparison.pillars}
    assert rows["Reliability"][:2] == [("HIGH", 1, 0, -1), ("MEDIUM", 0, 1, 1)]
    assert rows["Security"][1:] == [("MEDIUM", 1, 0, -1), ("NONE", 0, 1, 1)]
    assert rows["Cost optimization"][0] == ("HIGH", 0, 1, 1)
    assert comparison.totals.cells[0] == ("HIGH", 1, 1, 0)
    changed = {c.title: (c.before, c.after) for c in comparison.changed}
    assert len(changed) == 3
    assert ("HIGH", "MEDIUM") in changed.values() and ("UNANSWERED", "HIGH") in changed.values()


def test_questions_only_in_one_milestone_are_listed_as_not_asked(answered, cast):
    first = save(cast)
    snapshot = dict(first.snapshot)
    snapshot["answers"] = snapshot["answers"][1:]
    Milestone.objects.filter(pk=first.pk).update(snapshot=snapshot)
    first.refresh_from_db()
    comparison = milestones.milestone_compare(first, save(cast))
    assert [(c.before, c.after) for c in comparison.changed] == [(None, "NONE")]


def test_trend_series_is_oldest_first_with_high_and_medium(answered, cast):
    save(cast)
    set_risk(answered, "identities", "HIGH", cast.admin)
    save(cast)
    series = milestones.milestone_trend(Milestone.objects.order_by("-created_at"))
    assert [counts for _, counts in series] == [
        {"HIGH": 1, "MEDIUM": 1},
        {"HIGH": 2, "MEDIUM": 0},
    ]


# --- Views -----------------------------------------------------------------------------------------


def test_the_panel_is_a_fragment_for_htmx_and_a_page_without(client, answered, cast):
    save(cast, name="Baseline")
    client.force_login(cast.viewer)
    fragment = client.get(url("workload_panel", cast.workload.uuid), **HTMX).content.decode()
    assert fragment.lstrip().startswith('<section class="card workload-panel" id="workload-panel"')
    assert "<html" not in fragment
    assert "Risk counts per pillar" in fragment and "Baseline" in fragment
    assert "Save milestone" not in fragment, "viewers do not save milestones"
    page = client.get(url("workload_panel", cast.workload.uuid)).content.decode()
    assert "<html" in page and 'id="workload-panel"' in page


def test_the_panel_shows_the_trend_and_the_compare_form_with_two_milestones(client, answered, cast):
    save(cast, name="One")
    save(cast, name="Two")
    client.force_login(cast.member)
    body = client.get(url("workload_panel", cast.workload.uuid), **HTMX).content.decode()
    assert "Risk trend over 2 milestones" in body
    assert url("milestone_compare", cast.workload.uuid) in body
    assert "Save milestone" in body


def test_the_panel_counts_open_and_overdue_actions(client, answered, cast):
    items.action_create(workload=cast.workload, session=answered, user=cast.admin, title="A")
    late = items.action_create(
        workload=cast.workload, session=answered, user=cast.admin, title="Late one"
    )
    items.action_update(
        action=late, user=cast.admin, changes={"due_on": timezone.localdate() - timedelta(days=2)}
    )
    client.force_login(cast.member)
    body = client.get(url("workload_panel", cast.workload.uuid), **HTMX).content.decode()
    assert "<strong>2</strong> open" in body and "1 overdue" in body
    assert "Late one" in body


def test_the_panel_without_reviews_has_empty_states(client, cast):
    client.force_login(cast.member)
    body = client.get(url("workload_panel", cast.workload.uuid), **HTMX).content.decode()
    assert "No review of this workload has answers yet." in body
    assert "No milestones yet." in body


def test_the_workload_page_loads_the_panel(client, cast):
    client.force_login(cast.member)
    body = client.get(
        reverse("reviews:workload_detail", args=[cast.workload.uuid])
    ).content.decode()
    panel = url("workload_panel", cast.workload.uuid)
    assert f'hx-get="{panel}" hx-trigger="load"' in body
    assert f'<a href="{panel}">Risks, milestones and actions</a>' in body


def test_saving_a_milestone_by_hand(client, answered, cast):
    client.force_login(cast.member)
    response = client.post(url("milestone_create", cast.workload.uuid), {"name": "Pre-launch"})
    assert response["Location"] == reverse("reviews:workload_detail", args=[cast.workload.uuid])
    milestone = Milestone.objects.get()
    assert milestone.name == "Pre-launch" and milestone.kind == Milestone.Kind.MANUAL
    assert milestone.created_by == cast.member


@pytest.mark.parametrize("who", ["viewer", "finance"])
def test_viewers_and_finance_do_not_save_milestones(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.post(url("milestone_create", cast.workload.uuid)).status_code == 403
    assert not Milestone.objects.exists()


def test_the_compare_page(client, answered, cast):
    first = save(cast, name="First")
    set_risk(answered, "manage-service-limits", "NONE", cast.admin)
    second = save(cast, name="Second")
    client.force_login(cast.viewer)
    body = client.get(
        url("milestone_compare", cast.workload.uuid), {"a": first.uuid, "b": second.uuid}
    ).content.decode()
    assert "Questions whose risk changed" in body
    assert "How do you stay ahead of service quotas and platform limits?" in body
    assert 'class="num delta better">-1<' in body


def test_comparing_a_milestone_with_itself_or_a_stranger_is_an_error(client, answered, cast):
    first = save(cast)
    save(cast)
    other = milestones.milestone_create(
        workload=cast.other_workload, user=cast.outsider, kind=Milestone.Kind.MANUAL
    )
    client.force_login(cast.member)
    compare = url("milestone_compare", cast.workload.uuid)
    same = client.get(compare, {"a": first.uuid, "b": first.uuid})
    assert "Choose two different milestones." in same.content.decode()
    stranger = client.get(compare, {"a": first.uuid, "b": other.uuid})
    assert stranger.status_code == 200 and stranger.context["comparison"] is None


def test_compare_needs_two_milestones(client, cast):
    client.force_login(cast.member)
    body = client.get(url("milestone_compare", cast.workload.uuid)).content.decode()
    assert "Two milestones are needed to compare." in body


def test_outsider_and_wrong_method(client, cast):
    client.force_login(cast.outsider)
    for name in ("workload_panel", "milestone_compare"):
        assert client.get(url(name, cast.workload.uuid)).status_code == 404
    assert client.post(url("milestone_create", cast.workload.uuid)).status_code == 404
    client.force_login(cast.member)
    assert client.post(url("workload_panel", cast.workload.uuid)).status_code == 405
    assert client.post(url("milestone_compare", cast.workload.uuid)).status_code == 405
    assert client.get(url("milestone_create", cast.workload.uuid)).status_code == 405


def test_one_milestone_draws_a_one_point_trend(client, review, cast):
    analysed(review, cast)
    save(cast)
    client.force_login(cast.member)
    body = client.get(url("workload_panel", cast.workload.uuid), **HTMX).content.decode()
    assert "Risk trend over 1 milestone" in body
