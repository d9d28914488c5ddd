"""The team's reminder settings on its page: the hour reminders go out at (in each person's
time zone), the working days and when overdue actions escalate; only team admins change them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from reviews import teams
from reviews.errors import ServiceError
from reviews.models import AuditEntry, Team


def url(team: Team) -> str:
    return reverse("reviews:team_settings", args=[team.uuid])


VALID = {"reminder_hour": "8", "working_days": ["7", "1", "2", "3", "4"], "overdue_escalation_weeks": "2"}  # fmt: skip


def fresh(team: Team) -> tuple[int, str, int]:
    team.refresh_from_db()
    return team.reminder_hour, team.working_days, team.overdue_escalation_weeks


def test_a_new_team_sends_at_nine_from_monday_to_friday(cast):
    assert fresh(cast.team) == (9, "12345", 3)


def test_the_admin_sees_the_settings_on_the_team_page(client, cast):
    client.force_login(cast.admin)
    page = client.get(reverse("reviews:team_detail", args=[cast.team.uuid])).content.decode()
    assert 'id="team-settings"' in page
    assert '<option value="9" selected>09:00</option>' in page
    assert 'value="5" id="id_working_days_4" checked' in page
    assert 'value="6" id="id_working_days_5">' in page


def test_others_do_not_see_the_settings(client, cast):
    client.force_login(cast.member)
    page = client.get(reverse("reviews:team_detail", args=[cast.team.uuid])).content.decode()
    assert 'id="team-settings"' not in page


def test_the_admin_changes_them_with_a_plain_form(client, cast):
    client.force_login(cast.admin)
    response = client.post(url(cast.team), VALID)
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:team_detail", args=[cast.team.uuid])
    assert fresh(cast.team) == (8, "12347", 2)
    entry = AuditEntry.objects.get(team=cast.team, action=AuditEntry.Action.SETTINGS_CHANGED)
    assert entry.actor == cast.admin
    assert entry.details == {
        "reminder_hour": "09:00 -> 08:00",
        "working_days": "Mon, Tue, Wed, Thu, Fri -> Mon, Tue, Wed, Thu, Sun",
        "overdue_escalation_weeks": "3 -> 2",
    }


def test_the_admin_changes_them_with_htmx_and_gets_the_card_back(client, cast):
    client.force_login(cast.admin)
    response = client.post(url(cast.team), VALID, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card" id="team-settings"')
    assert "Saved." in body and '<option value="8" selected>08:00</option>' in body
    assert fresh(cast.team) == (8, "12347", 2)


def test_saving_the_same_values_writes_no_audit_entry(client, cast):
    client.force_login(cast.admin)
    same = {"reminder_hour": "9", "working_days": ["1", "2", "3", "4", "5"], "overdue_escalation_weeks": "3"}  # fmt: skip
    assert client.post(url(cast.team), same).status_code == 302
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.SETTINGS_CHANGED).exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"reminder_hour": "0"}, "reminder_hour", "Select a valid choice"),
        ({"reminder_hour": "23"}, "reminder_hour", "Select a valid choice"),
        ({"reminder_hour": "nine"}, "reminder_hour", "Select a valid choice"),
        ({"working_days": []}, "working_days", "Choose at least one working day."),
        ({"working_days": ["8"]}, "working_days", "Select a valid choice"),
        ({"overdue_escalation_weeks": "0"}, "overdue_escalation_weeks", "Select a valid choice"),
    ],
)
def test_bad_values_are_refused_with_a_clear_error(client, cast, change, field, message):
    client.force_login(cast.admin)
    response = client.post(url(cast.team), VALID | change, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 400
    assert body.lstrip().startswith('<section class="card" id="team-settings"')
    assert f'id="id_{field}_error"' in body and message in body
    assert fresh(cast.team) == (9, "12345", 3)
    # The plain form shows the page with the errors.
    response = client.post(url(cast.team), VALID | change)
    body = response.content.decode()
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in body and message in body and "Audit log" in body
    assert fresh(cast.team) == (9, "12345", 3)


@pytest.mark.parametrize("who", ["member", "finance", "viewer"])
def test_other_members_are_refused(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.post(url(cast.team), VALID).status_code == 403
    assert fresh(cast.team) == (9, "12345", 3)


def test_an_outsider_gets_404(client, cast):
    client.force_login(cast.outsider)
    assert client.post(url(cast.team), VALID).status_code == 404
    assert fresh(cast.team) == (9, "12345", 3)


def test_get_is_not_allowed(client, cast):
    client.force_login(cast.admin)
    assert client.get(url(cast.team)).status_code == 405


def test_signed_out_is_sent_to_sign_in(client, cast):
    response = client.post(url(cast.team), VALID)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_service_refuses_night_hours_and_no_working_day(cast):
    for hour in (0, 5, 21, 23):
        with pytest.raises(ServiceError) as refused:
            teams.team_settings_update(
                team=cast.team,
                actor=cast.admin,
                reminder_hour=hour,
                working_days=[1],
                overdue_escalation_weeks=3,
            )
        assert refused.value.field == "reminder_hour"
    with pytest.raises(ServiceError) as refused:
        teams.team_settings_update(
            team=cast.team, actor=cast.admin, reminder_hour=9, working_days=[], overdue_escalation_weeks=3
        )  # fmt: skip
    assert refused.value.field == "working_days"


def test_the_database_refuses_them_too(cast):
    for values in ({"reminder_hour": 0}, {"reminder_hour": 21}, {"working_days": ""}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Team.objects.filter(pk=cast.team.pk).update(**values)
