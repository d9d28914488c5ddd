"""The plan table's services: several actions at once (all or none, a refusal naming its
action), and the defaults (an owner per pillar, a due date by quadrant) that fill in only
what is missing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from actions import items, plantable
from actions.models import ActionChange, ActionItem, Finding
from reviews.errors import ServiceError
from reviews.models import Phase
from tests.actions.analysis_helpers import analysed, move_to

TODAY = date(2026, 11, 29)


def add(cast, review, title, **fields):
    return items.action_create(
        workload=cast.workload, session=review, user=cast.admin, title=title, **fields
    )


@pytest.fixture
def planned(review, cast):
    """The review in the action-plan phase: its two findings (a reliability one, a security
    one) and three bare actions, two on the first finding and one on the second."""
    first, second = analysed(review, cast)
    move_to(review, Phase.ACTION_PLAN)
    add(cast, review, "Raise the quotas", finding=first)
    add(cast, review, "Alarm on the quotas", finding=first)
    add(cast, review, "Rotate the keys", finding=second)
    return review


def titled(title: str) -> ActionItem:
    return ActionItem.objects.select_related("owner").get(title=title)


# --- One row -------------------------------------------------------------------------------------


def test_a_row_keeps_an_outcome_written_over_several_lines(planned, cast):
    action = items.action_update(
        action=titled("Raise the quotas"),
        user=cast.admin,
        changes={"measurable_outcome": "No quota alarm\r\nfor a month"},
    )
    # The one-line box sends it back without its line breaks, with a new owner.
    plantable.plan_row_save(
        action=action,
        user=cast.member,
        changes={"owner": cast.member, "measurable_outcome": "No quota alarmfor a month"},
    )
    action = titled("Raise the quotas")
    assert action.measurable_outcome == "No quota alarm\r\nfor a month"
    assert action.owner == cast.member
    assert not ActionChange.objects.filter(user=cast.member, field="measurable_outcome").exists()
    # A real change of the outcome is saved.
    plantable.plan_row_save(
        action=action, user=cast.member, changes={"measurable_outcome": "Alarms silent"}
    )
    assert titled("Raise the quotas").measurable_outcome == "Alarms silent"


# --- Bulk -----------------------------------------------------------------------------------------


def test_bulk_sets_owner_due_date_and_status_of_the_selected_only(planned, cast):
    due = timezone.localdate() + timedelta(days=14)
    chosen = [titled("Raise the quotas").uuid, titled("Rotate the keys").uuid]
    changed = plantable.plan_bulk_update(
        session=planned,
        user=cast.admin,
        action_uuids=chosen,
        changes={"owner": cast.member, "due_on": due, "status": "in_progress"},
    )
    assert len(changed) == 2
    for title in ("Raise the quotas", "Rotate the keys"):
        action = titled(title)
        assert (action.owner, action.due_on, action.status) == (cast.member, due, "in_progress")
    untouched = titled("Alarm on the quotas")
    assert (untouched.owner, untouched.due_on, untouched.status) == (None, None, "open")
    # Each change has its history row, by whom it was made.
    owner_changes = ActionChange.objects.filter(field="owner", user=cast.admin)
    assert owner_changes.count() == 2


def test_bulk_is_all_or_nothing_and_names_the_action_refused(planned, cast, monkeypatch):
    first, second = titled("Raise the quotas"), titled("Rotate the keys")
    real_update = items.action_update

    def refuse_the_second(*, action, user, changes):
        if action.pk == second.pk:
            raise items.ActionInvalid("status", "That status is not allowed here.")
        return real_update(action=action, user=user, changes=changes)

    monkeypatch.setattr(items, "action_update", refuse_the_second)
    with pytest.raises(ServiceError) as refused:
        plantable.plan_bulk_update(
            session=planned,
            user=cast.admin,
            action_uuids=[first.uuid, second.uuid],
            changes={"status": "in_progress", "owner": cast.member},
        )
    assert "“Rotate the keys”" in str(refused.value)
    assert "That status is not allowed here." in str(refused.value)
    assert refused.value.field == "status"
    # The first action, changed before the refusal, is as it was.
    assert (titled("Raise the quotas").status, titled("Raise the quotas").owner) == ("open", None)
    assert not ActionChange.objects.exclude(field="created").exists()


def test_bulk_refuses_an_owner_outside_the_team_naming_the_action(planned, cast):
    with pytest.raises(ServiceError) as refused:
        plantable.plan_bulk_update(
            session=planned,
            user=cast.admin,
            action_uuids=[titled("Raise the quotas").uuid],
            changes={"owner": cast.viewer},
        )
    assert str(refused.value).startswith("Nothing was changed: “Raise the quotas” was refused")
    assert refused.value.field == "owner"
    assert titled("Raise the quotas").owner is None


def test_bulk_refuses_actions_of_another_plan_and_an_empty_request(planned, cast, review):
    stranger = items.action_create(workload=cast.workload, user=cast.admin, title="Elsewhere")
    with pytest.raises(ServiceError, match="not in this plan"):
        plantable.plan_bulk_update(
            session=planned,
            user=cast.admin,
            action_uuids=[stranger.uuid],
            changes={"status": "done"},
        )
    with pytest.raises(ServiceError, match="Choose an owner"):
        plantable.plan_bulk_update(
            session=planned, user=cast.admin, action_uuids=[stranger.uuid], changes={}
        )
    with pytest.raises(ServiceError, match="Select the actions"):
        plantable.plan_bulk_update(
            session=planned, user=cast.admin, action_uuids=[], changes={"status": "done"}
        )
    assert titled("Elsewhere").status == "open"


# --- Defaults -------------------------------------------------------------------------------------


def test_pillar_groups_count_the_live_actions_without_an_owner(planned, cast):
    items.action_update(
        action=titled("Raise the quotas"), user=cast.admin, changes={"owner": cast.admin}
    )
    add(cast, planned, "By hand")
    cancelled = add(cast, planned, "Dropped")
    items.action_update(action=cancelled, user=cast.admin, changes={"status": "cancelled"})
    groups = {
        g.name: (g.count, g.without_owner)
        for g in plantable.pillar_groups(plantable.plan_table_actions(planned))
    }
    assert groups == {
        "Reliability": (2, 1),
        "Security": (1, 1),
        plantable.NO_PILLAR: (1, 1),
    }


def test_defaults_fill_owners_per_pillar_and_due_dates_by_quadrant(planned, cast):
    pillar = "question__pillar__name"
    # The reliability finding is a quick win, the security one a major project.
    Finding.objects.filter(session=planned, **{pillar: "Reliability"}).update(
        impact_override=5, effort_override=1
    )
    Finding.objects.filter(session=planned, **{pillar: "Security"}).update(
        impact_override=5, effort_override=5
    )
    add(cast, planned, "By hand")
    filled = plantable.plan_defaults_fill(
        session=planned,
        user=cast.admin,
        owners={"Reliability": cast.member, "Security": cast.finance},
        due_dates=True,
        today=TODAY,
    )
    assert (filled.owners, filled.due_dates) == (3, 4)
    assert titled("Raise the quotas").owner == cast.member
    assert titled("Alarm on the quotas").owner == cast.member
    assert titled("Rotate the keys").owner == cast.finance
    assert titled("By hand").owner is None
    assert titled("Raise the quotas").due_on == TODAY + timedelta(days=30)
    assert titled("Rotate the keys").due_on == TODAY + timedelta(days=90)
    assert titled("By hand").due_on == TODAY + timedelta(days=60)
    assert ActionChange.objects.filter(field="due_on", user=cast.admin).count() == 4


def test_defaults_never_overwrite_what_someone_set(planned, cast):
    set_on = timezone.localdate() + timedelta(days=5)
    items.action_update(
        action=titled("Raise the quotas"),
        user=cast.member,
        changes={"owner": cast.admin, "due_on": set_on},
    )
    cancelled = titled("Rotate the keys")
    items.action_update(action=cancelled, user=cast.admin, changes={"status": "cancelled"})
    filled = plantable.plan_defaults_fill(
        session=planned,
        user=cast.admin,
        owners={"Reliability": cast.member, "Security": cast.member},
        due_dates=True,
        today=TODAY,
    )
    assert (filled.owners, filled.due_dates) == (1, 1)
    kept = titled("Raise the quotas")
    assert (kept.owner, kept.due_on) == (cast.admin, set_on)
    assert titled("Alarm on the quotas").owner == cast.member
    # A cancelled action is not part of the plan any more: left alone.
    assert (titled("Rotate the keys").owner, titled("Rotate the keys").due_on) == (None, None)


def test_defaults_without_due_dates_leave_them_empty(planned, cast):
    filled = plantable.plan_defaults_fill(
        session=planned, user=cast.admin, owners={"Security": cast.member}, due_dates=False
    )
    assert (filled.owners, filled.due_dates) == (1, 0)
    assert not ActionItem.objects.filter(due_on__isnull=False).exists()


def test_defaults_are_all_or_nothing(planned, cast):
    with pytest.raises(ServiceError, match="Nothing was filled in"):
        plantable.plan_defaults_fill(
            session=planned,
            user=cast.admin,
            owners={"Reliability": cast.member, "Security": cast.viewer},
            due_dates=True,
        )
    assert not ActionItem.objects.filter(owner__isnull=False).exists()
    assert not ActionItem.objects.filter(due_on__isnull=False).exists()


def test_the_page_shows_each_default_due_date():
    shown = plantable.due_defaults(TODAY)
    assert ("Quick wins", 30, date(2026, 12, 29)) in shown
    assert ("Major projects", 90, date(2027, 2, 27)) in shown
    assert ("Fill-ins", 60, date(2027, 1, 28)) in shown
