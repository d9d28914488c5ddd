"""Leaving a team ends access at once, everywhere: pages, the calendar feed, reminders,
notifications, "My actions" and the person's places in the team's sessions. Their open
actions are flagged on the workload page for a new owner."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from actions import calendar, notifications, reminders
from actions.models import ActionItem, Notification, Occasion, Reminder
from reviews import teams
from reviews.models import AuditEntry, Membership, Participant, Presence, Team
from tests.actions.cadence_helpers import at, make_action, make_session, sent, sweep, travel

pytestmark = pytest.mark.usefixtures("lenses")

MONDAY = date(2027, 3, 1)


def remove(client, cast, user):
    membership = Membership.objects.get(team=cast.team, user=user)
    client.force_login(cast.admin)
    response = client.post(reverse("reviews:member_remove", args=[cast.team.uuid, membership.pk]))
    assert response.status_code == 302
    client.logout()


def test_removal_ends_their_places_in_the_teams_sessions(client, cast):
    session = make_session(cast, starts=timezone.now() + timedelta(days=3))
    Presence.objects.create(session=session, user=cast.member, last_seen=timezone.now())
    remove(client, cast, cast.member)
    # No Participant row is left: one without a membership would make a guest of them.
    assert not Participant.objects.filter(user=cast.member).exists()
    assert not Presence.objects.filter(user=cast.member).exists()
    client.force_login(cast.member)
    for url in (
        reverse("reviews:session_detail", args=[session.uuid]),
        reverse("reviews:session_live", args=[session.uuid]),
        reverse("reviews:workload_detail", args=[cast.workload.uuid]),
        reverse("reviews:team_detail", args=[cast.team.uuid]),
        reverse("actions:plan", args=[session.uuid]),
    ):
        assert client.get(url).status_code == 404, url
    entry = AuditEntry.objects.get(team=cast.team, action="removed")
    assert entry.subject == "bob" and entry.actor == cast.admin
    assert entry.details["sessions"] == [
        {"session": str(session.uuid), "title": session.title, "role": "workload_owner"}
    ]


def test_the_calendar_feed_lists_nothing_of_the_team_left(client, cast):
    other = Team.objects.create(name="Charlie")
    Membership.objects.create(team=other, user=cast.member, role="member")
    feed = calendar.calendar_feed_reset(user=cast.member)
    session = make_session(cast, starts=timezone.now() + timedelta(days=5))
    make_action(session, cast.member, title="Alpha's action", due_on=timezone.localdate())
    # They own the workload too: its next review is in their feed while they are in the team.
    cast.workload.owner = cast.member
    cast.workload.next_review_due_on = timezone.localdate() + timedelta(days=90)
    cast.workload.save(update_fields=["owner", "next_review_due_on"])
    url = reverse("actions:calendar_feed", args=[feed.token])
    before = client.get(url).content
    summaries = [str(e["summary"]) for e in Calendar.from_ical(before).walk("VEVENT")]
    assert any("Alpha's action" in s for s in summaries)
    assert any(s.startswith("Next review due: Checkout") for s in summaries)

    remove(client, cast, cast.member)

    after = client.get(url)
    assert after.status_code == 200  # still in another team: the feed stays, empty of Alpha
    cal = Calendar.from_ical(after.content)
    assert cal.walk("VEVENT") == [] and cal.walk("VTODO") == []
    assert (
        b"Checkout" not in after.content
        and b"Alpha" not in after.content
        and b"alice@example.com" not in after.content
    )


def test_the_calendar_feed_of_someone_in_no_team_is_404(client, cast):
    feed = calendar.calendar_feed_reset(user=cast.member)
    url = reverse("actions:calendar_feed", args=[feed.token])
    assert client.get(url).status_code == 200
    remove(client, cast, cast.member)
    assert client.get(url).status_code == 404


def test_no_reminders_once_removed(cast):
    with travel(MONDAY):
        session = make_session(cast, starts=at(MONDAY + timedelta(days=14), 10))
    make_action(session, cast.member, due_on=date(2027, 5, 20))
    with travel(date(2027, 5, 13), 10):
        sweep()
    assert ("bob", "action_due") in sent()
    before = len(mail.outbox)
    teams.membership_remove(
        membership=Membership.objects.get(team=cast.team, user=cast.member), actor=cast.admin
    )
    with travel(date(2027, 5, 19), 10):
        swept = sweep()
    assert [r for r in swept if r.recipient_id == cast.member.pk and r.status == "sent"] == []
    assert sent(before) == []


def test_a_reminder_scheduled_before_the_removal_is_not_sent_after_it(cast):
    with travel(MONDAY):
        session = make_session(cast, starts=at(MONDAY + timedelta(days=14), 10))
    make_action(session, cast.member, due_on=date(2027, 5, 20))
    with travel(date(2027, 5, 13), 10):
        result = reminders.reminders_dispatch(queue=False)
    [reminder] = Reminder.objects.filter(pk__in=result.queued, recipient=cast.member)
    teams.membership_remove(
        membership=Membership.objects.get(team=cast.team, user=cast.member), actor=cast.admin
    )
    with travel(date(2027, 5, 13), 10):
        reminders.reminder_send(reminder_id=reminder.pk)
    reminder.refresh_from_db()
    assert reminder.status == "skipped" and mail.outbox == []
    assert not Notification.objects.filter(user=cast.member).exists()


def test_the_teams_notifications_are_hidden_once_removed(client, cast):
    with travel(MONDAY):
        session = make_session(cast, starts=at(MONDAY + timedelta(days=14), 10))
    make_action(session, cast.member, due_on=date(2027, 5, 20))
    with travel(date(2027, 5, 13), 10):
        sweep()
    mine = Notification.objects.get(user=cast.member, occasion=Occasion.ACTION_DUE)
    assert mine.team == cast.team
    unrelated = Notification.objects.create(user=cast.member, occasion="action_due", title="Hi")
    assert notifications.unread_count(cast.member) == 2

    remove(client, cast, cast.member)

    assert notifications.unread_count(cast.member) == 1
    client.force_login(cast.member)
    body = client.get(reverse("actions:notifications")).content.decode()
    assert mine.title not in body and "Hi" in body
    assert client.get(reverse("actions:notification_open", args=[mine.uuid])).status_code == 404
    assert unrelated.team is None


def test_my_actions_no_longer_lists_the_teams_items(client, cast):
    session = make_session(cast, starts=timezone.now() + timedelta(days=5))
    make_action(session, cast.member, title="Alpha's action")
    client.force_login(cast.member)
    assert "Alpha&#x27;s action" in client.get(reverse("actions:my_actions")).content.decode()
    remove(client, cast, cast.member)
    client.force_login(cast.member)
    body = client.get(reverse("actions:my_actions")).content.decode()
    assert "Alpha&#x27;s action" not in body


def test_open_actions_of_someone_who_left_need_a_new_owner(client, cast):
    session = make_session(cast, starts=timezone.now() + timedelta(days=5))
    orphan = make_action(session, cast.member, title="Orphaned")
    make_action(session, cast.member, title="Finished", status="done")
    make_action(session, cast.admin, title="Alice keeps this")
    panel = reverse("actions:workload_panel", args=[cast.workload.uuid])
    client.force_login(cast.admin)
    assert "needs a new owner" not in client.get(panel).content.decode()

    remove(client, cast, cast.member)

    client.force_login(cast.admin)
    body = client.get(panel).content.decode()
    assert body.count("needs a new owner") == 1 and "Orphaned" in body
    response = client.post(
        reverse("actions:action_reassign", args=[orphan.uuid]), {"owner": cast.finance.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:workload_detail", args=[cast.workload.uuid])
    orphan.refresh_from_db()
    assert orphan.owner == cast.finance
    assert orphan.changes.get(field="owner").user == cast.admin
    assert "needs a new owner" not in client.get(panel).content.decode()


def test_reassigning_is_for_admins_and_members_to_people_of_the_team(client, cast):
    session = make_session(cast, starts=timezone.now() + timedelta(days=5))
    orphan = make_action(session, cast.viewer, title="Orphaned")
    url = reverse("actions:action_reassign", args=[orphan.uuid])
    for who in (cast.viewer, cast.finance):
        client.force_login(who)
        assert client.post(url, {"owner": cast.finance.pk}).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(url, {"owner": cast.outsider.pk}).status_code == 404
    client.force_login(cast.member)
    assert client.get(url).status_code == 405
    response = client.post(url, {"owner": cast.outsider.pk}, follow=True)
    assert "choose one of the team" in response.content.decode()
    orphan.refresh_from_db()
    assert orphan.owner == cast.viewer
    assert ActionItem.objects.filter(owner=cast.outsider).count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_live_stream_is_refused_once_removed(asgi_server, cast):
    import httpx

    session = make_session(cast, starts=timezone.now() + timedelta(days=1))  # bob takes part
    url = asgi_server + reverse("reviews:session_events", args=[session.uuid])
    bob = Client()
    bob.force_login(cast.member)
    cookies = {"sessionid": bob.cookies["sessionid"].value}
    with httpx.Client(timeout=10, cookies=cookies) as http, http.stream("GET", url) as stream:
        assert stream.status_code == 200
    teams.membership_remove(
        membership=Membership.objects.get(team=cast.team, user=cast.member), actor=cast.admin
    )
    with httpx.Client(timeout=10, cookies=cookies) as http:
        assert http.get(url).status_code == 404
