"""Monthly follow-ups of a published plan: scheduling, the digest of where actions stand,
the page with in-place updates, and finishing it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from actions import followups, reminders, timezones
from actions.models import ActionChange, ActionItem, FollowUp, FollowUpNote, Occasion, Reminder
from reviews.errors import ServiceError
from reviews.models import Milestone, Participant, Phase, ReviewSession
from tests.actions.cadence_helpers import at, make_action, make_session, publish, travel

pytestmark = pytest.mark.usefixtures("lenses")


@pytest.fixture
def plan(cast):
    """A plan published on 6 April 2027 with three actions: bob's (due 30 April), fay's
    (due 20 May) and one already done."""
    with travel(date(2027, 3, 1)):
        session = make_session(cast, starts=at(date(2027, 3, 15), 10))
        Participant.objects.create(session=session, user=cast.finance, role="finance")
        make_action(session, cast.member, title="Multi-AZ database", due_on=date(2027, 4, 30))
        make_action(session, cast.finance, title="Budget alerts", due_on=date(2027, 5, 20))
        make_action(session, cast.member, title="Tag resources", status="done", percent=100)
    return publish(session, on=at(date(2027, 4, 6), 12))


def schedule(day: date) -> int:
    with travel(day):
        return followups.followups_schedule(today=day)


# --- Scheduling ------------------------------------------------------------------------------


def test_a_follow_up_is_created_a_week_before_each_monthly_due_date_off_weekends(plan):
    assert schedule(date(2027, 4, 28)) == 0
    assert schedule(date(2027, 4, 29)) == 1
    assert schedule(date(2027, 5, 3)) == 0
    # 6 June 2027 is a Sunday: the follow-up falls on Monday 7 June.
    assert schedule(date(2027, 5, 30)) == 0
    assert schedule(date(2027, 5, 31)) == 1
    assert list(FollowUp.objects.values_list("number", "due_on")) == [
        (1, date(2027, 5, 6)),
        (2, date(2027, 6, 7)),
    ]


def test_no_follow_up_once_every_action_is_closed(plan):
    ActionItem.objects.filter(session=plan).update(status="cancelled")
    assert schedule(date(2027, 4, 29)) == 0


def test_no_follow_up_without_a_published_plan(plan):
    ReviewSession.objects.filter(pk=plan.pk).update(plan_published_at=None, phase=Phase.ACTION_PLAN)
    assert schedule(date(2027, 4, 29)) == 0


def test_follow_ups_continue_once_the_review_is_closed_while_actions_are_open(plan):
    ReviewSession.objects.filter(pk=plan.pk).update(phase=Phase.CLOSED)
    assert schedule(date(2027, 4, 29)) == 1
    assert followups.next_follow_up_due_on(plan) == date(2027, 6, 7)


def test_months_missed_long_ago_are_not_created_after_the_fact(plan):
    assert schedule(date(2027, 9, 1)) == 1
    assert list(FollowUp.objects.values_list("number", "due_on")) == [(5, date(2027, 9, 6))]


def test_two_schedulers_at_once_create_one_follow_up(plan):
    schedule(date(2027, 4, 29))
    with travel(date(2027, 4, 29)):
        followups.FollowUp.objects.bulk_create(
            [FollowUp(session=plan, number=1, due_on=date(2027, 5, 6))], ignore_conflicts=True
        )
    assert FollowUp.objects.count() == 1


def test_next_follow_up_due_on(plan):
    assert followups.next_follow_up_due_on(plan) == date(2027, 5, 6)
    schedule(date(2027, 4, 29))
    assert followups.next_follow_up_due_on(plan) == date(2027, 6, 7)  # not Sunday 6 June


# --- Where the actions stand -----------------------------------------------------------------


def test_the_digest_groups_actions_and_tells_what_moved(plan, cast):
    schedule(date(2027, 4, 29))
    first = FollowUp.objects.get()
    digest = followups.digest(first, today=date(2027, 5, 6))
    assert [a.title for a in digest.overdue] == ["Multi-AZ database"]
    assert [a.title for a in digest.open] == ["Budget alerts"]
    assert [a.title for a in digest.closed] == ["Tag resources"]
    assert digest.headline == "2 open, 1 overdue"
    followups.digest_snapshot(follow_up=first, snapshot=digest.snapshot)

    ActionItem.objects.filter(title="Multi-AZ database").update(status="done", percent_complete=100)
    ActionItem.objects.filter(title="Budget alerts").update(status="blocked", percent_complete=30)
    schedule(date(2027, 5, 31))
    second = FollowUp.objects.get(number=2)
    digest = followups.digest(second, today=date(2027, 6, 7))
    assert [a.title for a in digest.done_since] == ["Multi-AZ database"]
    assert [(a.title, before, after) for a, before, after in digest.moved] == [
        ("Budget alerts", 0, 30)
    ]
    assert digest.since == date(2027, 5, 6)
    assert digest.headline == "1 open, 1 overdue, 1 done since last month"


# --- The page --------------------------------------------------------------------------------


@pytest.fixture
def follow_up(plan) -> FollowUp:
    schedule(date(2027, 4, 29))
    return FollowUp.objects.get()


def page(follow_up):
    return reverse("actions:followup", args=[follow_up.uuid])


def update_url(follow_up, action):
    return reverse("actions:followup_action", args=[follow_up.uuid, action.uuid])


def test_the_page_opens_with_the_overdue_and_blocked_actions(client, cast, follow_up):
    ActionItem.objects.filter(title="Budget alerts").update(status="blocked")
    with travel(date(2027, 5, 6), 9):
        client.force_login(cast.member)
        body = client.get(page(follow_up)).content.decode()
    attention = body.index("Overdue or blocked")
    assert attention < body.index("Multi-AZ database") < body.index('id="open-h"')
    assert attention < body.index("Budget alerts") < body.index('id="open-h"')
    assert "Finish the follow-up" not in body  # bob is not the facilitator


def test_the_facilitator_sees_the_finish_form(client, cast, follow_up):
    client.force_login(cast.admin)
    body = client.get(page(follow_up)).content.decode()
    assert "Finish the follow-up" in body and "3 participants" in body


def test_an_owner_updates_their_action_in_place(client, cast, follow_up):
    action = ActionItem.objects.get(title="Multi-AZ database")
    client.force_login(cast.member)
    response = client.post(
        update_url(follow_up, action),
        {"status": "in_progress", "percent_complete": "60", "note": "Replica set up in eu-west-1"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert f'id="action-{action.uuid}"' in body and "Saved" in body
    assert 'id="followup-summary"' in body and 'hx-swap-oob="true"' in body
    action.refresh_from_db()
    assert (action.status, action.percent_complete) == ("in_progress", 60)
    assert set(ActionChange.objects.filter(action=action).values_list("field", flat=True)) >= {
        "status",
        "percent_complete",
    }
    note = FollowUpNote.objects.get(follow_up=follow_up, action=action)
    assert (note.note, note.status_after, note.percent_after, note.by) == (
        "Replica set up in eu-west-1",
        "in_progress",
        60,
        cast.member,
    )


def test_updating_again_keeps_one_note_per_action(client, cast, follow_up):
    action = ActionItem.objects.get(title="Multi-AZ database")
    client.force_login(cast.member)
    for percent in ("20", "40"):
        client.post(update_url(follow_up, action), {"status": "open", "percent_complete": percent})
    assert FollowUpNote.objects.get(action=action).percent_after == 40


def test_without_htmx_an_update_redirects_to_the_action_on_the_page(client, cast, follow_up):
    action = ActionItem.objects.get(title="Multi-AZ database")
    client.force_login(cast.member)
    response = client.post(
        update_url(follow_up, action), {"status": "done", "percent_complete": "10"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{page(follow_up)}#action-{action.uuid}"
    action.refresh_from_db()
    assert (action.status, action.percent_complete) == ("done", 100)  # done means 100%


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"status": "open", "percent_complete": "150"}, "percent_complete", "less than or equal"),
        ({"status": "lost", "percent_complete": "10"}, "status", "Select a valid choice"),
        ({"status": "open", "percent_complete": "10", "note": "x" * 1001}, "note", "at most 1000"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(client, cast, follow_up, data, field, message):
    action = ActionItem.objects.get(title="Multi-AZ database")
    client.force_login(cast.member)
    response = client.post(update_url(follow_up, action), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert message in response.content.decode()
    action.refresh_from_db()
    assert (action.status, action.percent_complete) == ("open", 0)
    assert not FollowUpNote.objects.exists()


@pytest.mark.parametrize("who", ["viewer", "finance"])
def test_only_owners_the_facilitator_and_editors_update(client, cast, follow_up, who):
    action = ActionItem.objects.get(title="Multi-AZ database")  # bob's
    client.force_login(getattr(cast, who))
    response = client.post(
        update_url(follow_up, action), {"status": "done", "percent_complete": "5"}
    )
    assert response.status_code == 403


def test_an_owner_in_finance_updates_their_own(client, cast, follow_up):
    action = ActionItem.objects.get(title="Budget alerts")  # fay's
    client.force_login(cast.finance)
    response = client.post(
        update_url(follow_up, action), {"status": "blocked", "percent_complete": "5"}
    )
    assert response.status_code == 302


def test_an_action_of_another_plan_is_404(client, cast, follow_up):
    with travel(date(2027, 3, 1)):
        other = make_session(cast, starts=at(date(2027, 3, 20)), title="Other")
    action = make_action(other, cast.member)
    client.force_login(cast.member)
    response = client.post(
        update_url(follow_up, action), {"status": "done", "percent_complete": "5"}
    )
    assert response.status_code == 404


# --- Finishing -------------------------------------------------------------------------------


def test_finishing_saves_a_milestone_and_emails_the_participants(
    client, cast, follow_up, django_capture_on_commit_callbacks
):
    with travel(date(2027, 5, 7), 11), django_capture_on_commit_callbacks() as queued:
        client.force_login(cast.admin)
        response = client.post(
            reverse("actions:followup_finish", args=[follow_up.uuid]),
            {"note": "Database work on track; budget alerts waiting for finance."},
        )
    assert response.status_code == 302 and response["Location"] == page(follow_up)
    follow_up.refresh_from_db()
    assert follow_up.held_by == cast.admin and follow_up.held_at is not None
    assert follow_up.milestone.kind == Milestone.Kind.FOLLOW_UP
    assert follow_up.milestone.name == "Follow-up 1 · 7 May 2027"
    assert follow_up.snapshot  # next month's digest compares with it
    summaries = Reminder.objects.filter(occasion=Occasion.FOLLOW_UP_SUMMARY)
    assert summaries.count() == 3 and len(queued) == 1  # their messages, after commit
    with travel(date(2027, 5, 7), 11, 1):
        reminders.reminders_send_pending()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "alice@example.com",
        "bob@example.com",
        "fay@example.com",
    ]
    message = mail.outbox[0]
    assert message.subject == "Follow-up 1 of Checkout: 2 open, 1 overdue"
    assert "Database work on track" in message.body
    assert f"http://127.0.0.1:8000{page(follow_up)}" in message.body


def test_finishing_with_htmx_reloads_the_page(client, cast, follow_up):
    client.force_login(cast.admin)
    response = client.post(
        reverse("actions:followup_finish", args=[follow_up.uuid]), {}, HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == page(follow_up)


def test_only_the_facilitator_or_an_admin_finishes(client, cast, follow_up):
    client.force_login(cast.member)
    response = client.post(reverse("actions:followup_finish", args=[follow_up.uuid]), {})
    assert response.status_code == 403
    follow_up.refresh_from_db()
    assert follow_up.held_at is None and not Milestone.objects.filter(kind="follow_up").exists()


def test_a_finished_follow_up_is_read_only(client, cast, follow_up):
    followups.followup_finish(follow_up=follow_up, user=cast.admin)
    with pytest.raises(ServiceError, match="already finished"):
        followups.followup_finish(follow_up=follow_up, user=cast.admin)
    action = ActionItem.objects.get(title="Multi-AZ database")
    client.force_login(cast.member)
    response = client.post(
        update_url(follow_up, action), {"status": "done", "percent_complete": "5"}
    )
    assert response.status_code == 403
    body = client.get(page(follow_up)).content.decode()
    assert "Held on" in body and '<form class="fu-form"' not in body


def test_the_summary_skips_nobody_and_sends_once(cast, follow_up):
    with travel(date(2027, 5, 7), 12):  # a Friday, in working hours
        followups.followup_finish(follow_up=follow_up, user=cast.admin)
        reminders.reminders_send_pending()
        reminders.reminders_send_pending()
    assert len(mail.outbox) == 3


def test_the_summary_waits_for_the_working_hours_of_each_participant(cast, follow_up):
    """Finished at 14:00 UTC on Friday 7 May: 16:00 in Berlin, 10:00 in New York, 23:00 in
    Tokyo, where it goes out at 09:00 on Monday."""
    zones = {cast.admin: "Europe/Berlin", cast.member: "America/New_York"}
    zones[cast.finance] = "Asia/Tokyo"
    for user, zone in zones.items():
        timezones.time_zone_set(user=user, name=zone)
    with travel(date(2027, 5, 7), 14), TestCase.captureOnCommitCallbacks(execute=True):
        followups.followup_finish(follow_up=follow_up, user=cast.admin)
    assert sorted(m.to[0] for m in mail.outbox) == [cast.admin.email, cast.member.email]
    with travel(date(2027, 5, 9), 23, 59):
        assert reminders.reminders_send_pending() == []
    with travel(date(2027, 5, 10), 0):  # 09:00 in Tokyo
        reminders.reminders_send_pending()
    assert mail.outbox[-1].to == [cast.finance.email]
    assert len(mail.outbox) == 3


# --- The session's follow-up link ------------------------------------------------------------


def test_the_session_link_goes_to_the_follow_up_to_hold(client, cast, follow_up):
    client.force_login(cast.viewer)
    response = client.get(reverse("actions:session_followup", args=[follow_up.session.uuid]))
    assert response.status_code == 302 and response["Location"] == page(follow_up)


def test_before_the_first_follow_up_the_link_says_when_it_is_due(client, cast, plan):
    client.force_login(cast.member)
    body = client.get(reverse("actions:session_followup", args=[plan.uuid])).content.decode()
    assert "The first follow-up is due on Thursday 6 May 2027." in body


def test_without_a_published_plan_the_link_says_so(client, cast, plan):
    ReviewSession.objects.filter(pk=plan.pk).update(plan_published_at=None, phase="action_plan")
    client.force_login(cast.member)
    body = client.get(reverse("actions:session_followup", args=[plan.uuid])).content.decode()
    assert "Monthly follow-ups start once the action plan is published." in body


# --- Access, methods, queries ----------------------------------------------------------------


def test_outsider_gets_404(client, cast, follow_up):
    action = ActionItem.objects.get(title="Multi-AZ database")
    client.force_login(cast.outsider)
    assert client.get(page(follow_up)).status_code == 404
    assert client.post(update_url(follow_up, action), {"status": "done"}).status_code == 404
    finish = reverse("actions:followup_finish", args=[follow_up.uuid])
    assert client.post(finish, {}).status_code == 404
    session_link = reverse("actions:session_followup", args=[follow_up.session.uuid])
    assert client.get(session_link).status_code == 404


def test_wrong_methods(client, cast, follow_up):
    action = ActionItem.objects.get(title="Multi-AZ database")
    client.force_login(cast.admin)
    assert client.post(page(follow_up)).status_code == 405
    assert client.get(update_url(follow_up, action)).status_code == 405
    assert client.get(reverse("actions:followup_finish", args=[follow_up.uuid])).status_code == 405
    session_link = reverse("actions:session_followup", args=[follow_up.session.uuid])
    assert client.post(session_link).status_code == 405


def test_the_page_query_count_is_flat(client, cast, follow_up, django_assert_max_num_queries):
    for n in range(30):
        make_action(follow_up.session, cast.member, title=f"A{n}", due_on=date(2027, 6, 1))
    client.force_login(cast.admin)
    with django_assert_max_num_queries(20):
        response = client.get(page(follow_up))
    # Every action of the plan, the done one too: the facilitator may reopen it.
    assert response.content.decode().count('class="fu-form"') == 33


def test_the_digest_of_a_follow_up_without_a_previous_snapshot(plan):
    schedule(date(2027, 4, 29))
    follow_up = FollowUp.objects.get()
    ActionItem.objects.filter(title="Tag resources").update(completed_at=at(date(2027, 4, 20)))
    digest = followups.digest(follow_up, today=date(2027, 5, 6))
    assert digest.since == date(2027, 4, 6)
    assert [a.title for a in digest.done_since] == ["Tag resources"]
    assert digest.moved == []
    assert follow_up.due_on - digest.since == timedelta(days=30)
