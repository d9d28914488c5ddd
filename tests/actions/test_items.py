"""Action items as a service: creating (from a best practice, by hand), validating each
field, updating with one history row per change, and the done rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from actions import items
from actions.models import ActionChange, ActionItem
from questionnaires.models import Choice
from reviews.errors import ServiceError
from reviews.models import Membership
from tests.actions.analysis_helpers import analysed
from tests.conftest import make_user


def create(cast, review, **fields):
    fields.setdefault("title", "Raise the service quotas")
    return items.action_create(workload=cast.workload, session=review, user=cast.admin, **fields)


def test_one_click_makes_an_action_from_a_missing_practice(finding, cast, review):
    review.action_plan_due_on = timezone.localdate() + timedelta(days=10)
    review.save(update_fields=["action_plan_due_on"])
    choice = Choice.objects.filter(question=finding.question, is_none_of_these=False).first()
    action, created = items.action_create_from_practice(
        finding=finding, choice=choice, user=cast.member
    )
    assert created
    assert action.title == choice.title
    assert action.description.startswith(choice.improvement_text)
    assert choice.improvement_url in action.description
    assert (action.finding, action.question, action.choice) == (finding, finding.question, choice)
    assert (action.workload, action.session) == (cast.workload, review)
    assert action.due_on == review.action_plan_due_on + timedelta(days=30)
    assert action.owner is None and action.status == ActionItem.Status.OPEN
    assert action.created_by == cast.member
    again, created_again = items.action_create_from_practice(
        finding=finding, choice=choice, user=cast.member
    )
    assert again == action and not created_again


def test_without_a_plan_due_date_the_due_date_stays_empty(finding, cast, review):
    review.action_plan_due_on = None
    review.save(update_fields=["action_plan_due_on"])
    finding.session.refresh_from_db()
    choice = Choice.objects.filter(question=finding.question, is_none_of_these=False).first()
    action, _ = items.action_create_from_practice(finding=finding, choice=choice, user=cast.admin)
    assert action.due_on is None


def test_a_cancelled_practice_action_can_be_made_again(finding, cast):
    choice = Choice.objects.filter(question=finding.question, is_none_of_these=False).first()
    first, _ = items.action_create_from_practice(finding=finding, choice=choice, user=cast.admin)
    items.action_update(action=first, user=cast.admin, changes={"status": "cancelled"})
    second, created = items.action_create_from_practice(
        finding=finding, choice=choice, user=cast.admin
    )
    assert created and second != first


def test_none_of_these_and_other_questions_choices_are_not_practices(finding, cast):
    none = Choice.objects.get(question=finding.question, is_none_of_these=True)
    other = Choice.objects.exclude(question=finding.question).first()
    for choice in (none, other):
        with pytest.raises(ServiceError):
            items.action_create_from_practice(finding=finding, choice=choice, user=cast.admin)


def test_creating_by_hand_records_a_created_entry(cast, review):
    action = create(cast, review, owner=cast.member, due_on=timezone.localdate())
    (entry,) = ActionChange.objects.filter(action=action)
    assert (entry.field, entry.new_value, entry.user) == ("created", action.title, cast.admin)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "  "}, "title", "needs a title"),
        ({"percent_complete": 101}, "percent_complete", "between 0 and 100"),
        ({"percent_complete": -1}, "percent_complete", "between 0 and 100"),
        ({"monthly_saving": Decimal("-5")}, "monthly_saving", "cannot be negative"),
        ({"currency": "EURO"}, "currency", "three-letter code"),
        ({"currency": "E1R"}, "currency", "three-letter code"),
        ({"external_url": "ftp://tracker.example.com/1"}, "external_url", "http(s)"),
        ({"external_url": "javascript:alert(1)"}, "external_url", "http(s)"),
        ({"due_on": "yesterday"}, "due_on", "cannot be in the past"),
        ({"status": "finished"}, "status", "not a status"),
        ({"effort": "xxl"}, "effort", "not an effort size"),
    ],
)
def test_each_bad_field_is_named(cast, review, fields, field, message):
    if fields.get("due_on") == "yesterday":
        fields["due_on"] = timezone.localdate() - timedelta(days=1)
    with pytest.raises(items.ActionInvalid) as caught:
        create(cast, review, **fields)
    assert caught.value.field == field
    assert message in str(caught.value)
    assert not ActionItem.objects.exists()


@pytest.mark.parametrize("role", [None, Membership.Role.VIEWER])
def test_the_owner_must_be_a_member_of_the_team_who_can_own(cast, review, role):
    user = cast.outsider if role is None else cast.viewer
    with pytest.raises(items.ActionInvalid) as caught:
        create(cast, review, owner=user)
    assert caught.value.field == "owner"


def test_finance_can_own_an_action(cast, review):
    assert create(cast, review, owner=cast.finance).owner == cast.finance


def test_a_past_due_date_is_allowed_when_editing(cast, review):
    action = create(cast, review)
    past = timezone.localdate() - timedelta(days=3)
    items.action_update(action=action, user=cast.admin, changes={"due_on": past})
    action.refresh_from_db()
    assert action.due_on == past


def test_a_finding_from_another_review_is_refused(cast, review, lenses):
    from reviews import sessions

    second = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Second",
        kind="periodic",
        review_starts_at=timezone.now(),
    )
    finding = analysed(review, cast)[0]
    with pytest.raises(ServiceError):
        items.action_create(
            workload=cast.workload, session=second, finding=finding, user=cast.admin, title="x"
        )


def test_update_records_one_history_row_per_changed_field(cast, review):
    action = create(cast, review, currency="EUR")
    due = timezone.localdate() + timedelta(days=20)
    items.action_update(
        action=action,
        user=cast.member,
        changes={
            "title": "Raise the service quotas",  # unchanged
            "owner": cast.member,
            "due_on": due,
            "monthly_saving": Decimal("120.5"),
            "currency": "eur",
            "status": "in_progress",
        },
    )
    changes = {
        c.field: (c.old_value, c.new_value, c.user)
        for c in ActionChange.objects.filter(action=action).exclude(field="created")
    }
    assert changes == {
        "owner": ("", "Bob Member", cast.member),
        "due_on": ("", due.isoformat(), cast.member),
        "monthly_saving": ("", "120.50", cast.member),
        "status": ("Open", "In progress", cast.member),
    }
    action.refresh_from_db()
    assert action.currency == "EUR" and action.monthly_saving == Decimal("120.50")


def test_an_update_that_changes_nothing_records_nothing(cast, review):
    action = create(cast, review)
    items.action_update(
        action=action, user=cast.admin, changes={"title": action.title, "owner": None}
    )
    assert ActionChange.objects.filter(action=action).count() == 1  # "created" only


def test_done_sets_percent_and_completion_and_reopening_clears_it(cast, review):
    action = create(cast, review, percent_complete=40)
    items.action_update(action=action, user=cast.admin, changes={"status": "done"})
    action.refresh_from_db()
    assert action.percent_complete == 100 and action.completed_at is not None
    fields = set(ActionChange.objects.filter(action=action).values_list("field", flat=True))
    assert {"status", "percent_complete"} <= fields
    items.action_update(
        action=action, user=cast.admin, changes={"status": "in_progress", "percent_complete": 80}
    )
    action.refresh_from_db()
    assert action.completed_at is None and action.percent_complete == 80


def test_done_wins_over_a_lower_percent_in_the_same_update(cast, review):
    action = create(cast, review)
    items.action_update(
        action=action, user=cast.admin, changes={"status": "done", "percent_complete": 30}
    )
    action.refresh_from_db()
    assert action.percent_complete == 100


def test_unknown_fields_are_refused(cast, review):
    action = create(cast, review)
    with pytest.raises(ServiceError):
        items.action_update(action=action, user=cast.admin, changes={"workload": None})


def test_a_refused_update_saves_nothing(cast, review):
    action = create(cast, review)
    with pytest.raises(items.ActionInvalid):
        items.action_update(
            action=action,
            user=cast.admin,
            changes={"title": "New title", "percent_complete": 150},
        )
    action.refresh_from_db()
    assert action.title == "Raise the service quotas"
    assert ActionChange.objects.filter(action=action).count() == 1


def test_comments_need_text(cast, review):
    action = create(cast, review)
    with pytest.raises(items.ActionInvalid):
        items.action_comment_add(action=action, user=cast.admin, body="  \n ")
    comment = items.action_comment_add(action=action, user=cast.admin, body=" Done soon \r\n")
    assert comment.body == "Done soon"


def test_owner_choices_are_the_teams_admins_members_and_finance(cast):
    extra = make_user("zed")
    Membership.objects.create(team=cast.other_team, user=extra)
    owners = set(items.owner_choices(cast.workload))
    assert owners == {cast.admin, cast.member, cast.finance}


# --- Overdue: one rule, as a query and on one action ---------------------------------------


@pytest.fixture
def by_title(cast, review):
    """Actions that are or are not overdue on 10 May 2027."""
    day = date(2027, 5, 10)
    cases = {
        "late": ("open", day - timedelta(days=1)),
        "late and blocked": ("blocked", day - timedelta(days=30)),
        "late in progress": ("in_progress", day - timedelta(days=2)),
        "due today": ("open", day),
        "due later": ("open", day + timedelta(days=1)),
        "no date": ("open", None),
        "done late": ("done", day - timedelta(days=1)),
        "cancelled late": ("cancelled", day - timedelta(days=1)),
        "accepted late": ("risk_accepted", day - timedelta(days=1)),
    }
    made = {}
    for title, (status, due_on) in cases.items():
        action = create(cast, review, title=title, status=status)
        ActionItem.objects.filter(pk=action.pk).update(due_on=due_on)
        made[title] = ActionItem.objects.get(pk=action.pk)
    return day, made


OVERDUE = {"late", "late and blocked", "late in progress"}


def test_overdue_is_open_and_past_the_due_date(by_title):
    day, made = by_title
    assert set(ActionItem.objects.overdue(day).values_list("title", flat=True)) == OVERDUE
    assert {title for title, action in made.items() if action.is_overdue(day)} == OVERDUE


def test_overdue_defaults_to_the_local_date(by_title):
    day, made = by_title
    with time_machine.travel(timezone.make_aware(datetime(2027, 5, 10, 12)), tick=False):
        assert set(ActionItem.objects.overdue().values_list("title", flat=True)) == OVERDUE
        assert made["late"].is_overdue() and not made["due today"].is_overdue()


def test_the_history_names_each_field(cast, review):
    action = create(cast, review)
    items.action_update(
        action=action, user=cast.admin, changes={"due_on": timezone.localdate(), "effort": "m"}
    )
    labels = [change.label for change in items.action_history(action)]
    assert sorted(labels) == ["created", "due date", "effort"]
