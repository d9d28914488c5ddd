"""The review cadence from the seeds: what it proposes, the cadence page, recording an
incident, and the card on the workload page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from reviews import cadence, sessions
from reviews.errors import ServiceError
from reviews.models import Participant, Phase, ReviewSession, SessionKind, Workload
from reviews.sessions import session_create, session_move
from tests.conftest import travel

TODAY = date(2027, 3, 1)  # a Monday


@pytest.fixture
def frozen():
    with travel(date(2027, 3, 1), 9):
        yield


def held(workload, day: date, kind: str, phase: str = Phase.CLOSED) -> ReviewSession:
    if kind == SessionKind.MONTHLY_LIGHT:
        # A light review asks the questions its full review left open; these full reviews
        # have no answers, so the light ones are written as the cadence reads them.
        return ReviewSession.objects.create(
            workload=workload,
            title=f"{kind} {day}",
            kind=kind,
            phase=phase,
            review_starts_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
        )
    session = session_create(
        workload=workload,
        user=workload.owner,
        title=f"{kind} {day}",
        kind=kind,
        review_starts_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
    )
    ReviewSession.objects.filter(pk=session.pk).update(phase=phase)
    return session


def periodic(cast, months: int = 12) -> Workload:
    workload = cast.workload
    workload.is_critical = False
    workload.review_interval_months = months
    workload.save()
    return workload


# --- The cadence in words and numbers --------------------------------------------------------


def test_cadence_of_a_new_workload(cast):
    cast.workload.environment = Workload.Environment.PREPRODUCTION
    result = cadence.cadence_for(cast.workload)
    assert result.category == "new" and result.interval_months is None
    assert "before detailed design and before production" in result.summary
    assert any("post-incident review within 14 days" in rule for rule in result.rules)


def test_cadence_of_a_critical_workload(cast):
    result = cadence.cadence_for(cast.workload)
    assert (result.category, result.interval_months, result.light_interval_months) == (
        "critical",
        3,
        1,
    )
    assert "every quarter" in result.summary and "every month" in result.summary


def test_cadence_of_an_existing_workload_follows_its_interval(cast):
    result = cadence.cadence_for(periodic(cast, 9))
    assert (result.category, result.interval_months) == ("periodic", 9)
    assert result.summary == "An existing workload is reviewed every 9 months."
    assert any("preparation starts 2 weeks before" in rule for rule in result.rules)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2027, 11, 15), 3, date(2028, 2, 15)),
        (date(2027, 3, 15), 6, date(2027, 9, 15)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(day, months, expected):
    assert cadence.add_months(day, months) == expected


# --- What it proposes ------------------------------------------------------------------------


def test_a_new_workload_starts_with_a_design_review_then_one_before_production(cast, lenses):
    workload = cast.workload
    workload.environment = Workload.Environment.PREPRODUCTION
    workload.save()
    assert cadence.next_review_due(workload, after=TODAY) == (
        date(2027, 3, 15),
        SessionKind.NEW_DESIGN,
    )
    held(workload, date(2027, 3, 15), SessionKind.NEW_DESIGN)
    assert cadence.next_review_due(workload, after=date(2027, 4, 10)) == (
        date(2027, 6, 15),
        SessionKind.NEW_PRODUCTION,
    )


def test_an_existing_workload_is_due_its_interval_after_the_last_review(cast, lenses):
    workload = periodic(cast, 6)
    held(workload, date(2027, 3, 15), SessionKind.PERIODIC)
    assert cadence.next_review_due(workload, after=date(2027, 4, 20)) == (
        date(2027, 9, 15),
        SessionKind.PERIODIC,
    )


def test_a_never_reviewed_workload_is_due_once_it_can_be_prepared(cast, lenses):
    workload = periodic(cast)
    assert cadence.next_review_due(workload, after=TODAY) == (
        date(2027, 3, 15),
        SessionKind.PERIODIC,
    )


def test_an_overdue_review_is_due_now(cast, lenses):
    workload = periodic(cast, 6)
    held(workload, date(2026, 1, 10), SessionKind.PERIODIC)
    assert cadence.next_review_due(workload, after=TODAY) == (TODAY, SessionKind.PERIODIC)


def test_reviews_not_held_yet_do_not_count(cast, lenses):
    workload = periodic(cast, 6)
    held(workload, date(2027, 1, 10), SessionKind.PERIODIC)
    held(workload, date(2027, 3, 20), SessionKind.PERIODIC, phase=Phase.PREPARATION)
    assert cadence.next_review_due(workload, after=TODAY)[0] == date(2027, 7, 10)


def test_a_critical_workload_has_monthly_light_reviews_between_quarterly_ones(cast, lenses):
    workload = cast.workload
    held(workload, date(2027, 1, 10), SessionKind.CRITICAL_QUARTERLY)
    assert cadence.next_review_due(workload, after=date(2027, 1, 25)) == (
        date(2027, 2, 10),
        SessionKind.MONTHLY_LIGHT,
    )
    held(workload, date(2027, 2, 10), SessionKind.MONTHLY_LIGHT)
    assert cadence.next_review_due(workload, after=date(2027, 2, 11)) == (
        date(2027, 3, 10),
        SessionKind.MONTHLY_LIGHT,
    )
    held(workload, date(2027, 3, 10), SessionKind.MONTHLY_LIGHT)
    assert cadence.next_review_due(workload, after=date(2027, 3, 11)) == (
        date(2027, 4, 10),
        SessionKind.CRITICAL_QUARTERLY,
    )


def test_the_proposed_schedule_looks_ahead(cast, lenses):
    held(cast.workload, date(2027, 1, 10), SessionKind.CRITICAL_QUARTERLY)
    schedule = cadence.proposed_schedule(cast.workload, after=date(2027, 1, 20), count=4)
    assert [(p.due_on, p.kind) for p in schedule] == [
        (date(2027, 2, 10), SessionKind.MONTHLY_LIGHT),
        (date(2027, 3, 10), SessionKind.MONTHLY_LIGHT),
        (date(2027, 4, 10), SessionKind.CRITICAL_QUARTERLY),
        (date(2027, 5, 10), SessionKind.MONTHLY_LIGHT),
    ]
    assert schedule[2].preparation_starts_on == date(2027, 3, 27)
    assert schedule[2].label == "Critical workload, quarterly"


def test_closing_a_review_proposes_the_next_one(cast, lenses):
    workload = periodic(cast, 6)
    with travel(date(2027, 3, 1), 9):
        session = held(workload, date(2027, 3, 15), SessionKind.PERIODIC, phase=Phase.FOLLOW_UP)
        ReviewSession.objects.filter(pk=session.pk).update(plan_published_at=datetime.now(UTC))
    with travel(date(2027, 5, 2), 9):
        # The workload owner facilitated it (held() plans reviews as the owner).
        session_move(session=session, user=cast.member, to_phase=Phase.CLOSED)
    workload.refresh_from_db()
    assert workload.next_review_due_on == date(2027, 9, 15)


# --- Post-incident reviews -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("occurred_on", "today", "expected"),
    [
        (date(2027, 3, 1), date(2027, 3, 1), date(2027, 3, 15)),  # Monday: two weeks later
        (date(2027, 3, 6), date(2027, 3, 6), date(2027, 3, 19)),  # Saturday: the Friday before
        (date(2027, 3, 7), date(2027, 3, 8), date(2027, 3, 19)),  # Sunday: the Friday before
        (date(2027, 2, 1), date(2027, 3, 5), date(2027, 3, 8)),  # recorded late: next working day
    ],
)
def test_a_post_incident_review_starts_within_two_weeks(occurred_on, today, expected):
    start = cadence.post_incident_start(occurred_on, today=today)
    assert start.date() == expected and start.hour == 10
    assert start.weekday() < 5


def test_recording_an_incident_schedules_a_post_incident_review(cast, lenses, frozen):
    session = sessions.incident_record(
        workload=cast.workload,
        user=cast.admin,
        occurred_on=date(2027, 2, 26),
        summary="  Checkout down for 40 minutes:\n expired certificate ",
    )
    assert session.kind == SessionKind.POST_INCIDENT
    assert session.title == (
        "Post-incident review (26 Feb 2027): Checkout down for 40 minutes: expired certificate"
    )
    assert session.review_starts_at == datetime(2027, 3, 12, 10, tzinfo=UTC)
    assert session.review_starts_at.date() - date(2027, 2, 26) <= timedelta(days=14)
    assert session.preparation_starts_on == TODAY
    roles = dict(Participant.objects.filter(session=session).values_list("user__username", "role"))
    assert roles == {"alice": "facilitator", "bob": "workload_owner"}


@pytest.mark.parametrize(
    ("occurred_on", "summary", "message"),
    [
        (date(2027, 3, 2), "Outage", "cannot be in the future"),
        (date(2027, 2, 26), "   ", "Say in a sentence what happened"),
        (date(2027, 2, 26), "x" * 101, "Keep the summary to 100 characters"),
    ],
)
def test_an_incident_needs_a_past_date_and_a_summary(
    cast, lenses, frozen, occurred_on, summary, message
):
    with pytest.raises(ServiceError, match=message):
        sessions.incident_record(
            workload=cast.workload, user=cast.admin, occurred_on=occurred_on, summary=summary
        )
    assert not ReviewSession.objects.exists()


# --- The cadence page ------------------------------------------------------------------------


def url(cast, name="reviews:workload_cadence"):
    return reverse(name, args=[cast.workload.uuid])


def test_the_page_explains_the_cadence_and_proposes_a_schedule(client, cast, lenses, frozen):
    held(cast.workload, date(2027, 1, 10), SessionKind.CRITICAL_QUARTERLY)
    client.force_login(cast.member)
    response = client.get(url(cast))
    body = response.content.decode()
    assert response.status_code == 200
    assert "A critical workload has a full review every quarter" in body
    assert "10 Mar 2027" in body and "Monthly light review" in body
    assert "10 Apr 2027" in body and "Critical workload, quarterly" in body
    assert "Save the cadence" in body and "Schedule the post-incident review" in body


def test_viewers_see_the_cadence_but_no_forms(client, cast, lenses):
    client.force_login(cast.viewer)
    body = client.get(url(cast)).content.decode()
    assert "Critical workload" in body
    assert "Save the cadence" not in body and "Schedule the post-incident review" not in body


def test_saving_the_interval_and_next_review_date(client, cast):
    client.force_login(cast.member)
    response = client.post(
        url(cast), {"review_interval_months": "9", "next_review_due_on": "2027-06-01"}
    )
    assert response.status_code == 302 and response["Location"] == url(cast)
    cast.workload.refresh_from_db()
    assert cast.workload.review_interval_months == 9
    assert cast.workload.next_review_due_on == date(2027, 6, 1)


def test_saving_with_htmx_returns_the_settings_card(client, cast, lenses):
    client.force_login(cast.member)
    response = client.post(
        url(cast), {"review_interval_months": "6", "next_review_due_on": ""}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="cadence-settings"' in body and "Saved" in body and "<html" not in body


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5", "Review at least every 6 months: choose 6 to 12."),
        ("13", "Review at least once a year: choose 6 to 12 months."),
        ("", "This field is required."),
    ],
)
def test_the_interval_must_be_6_to_12_months(client, cast, lenses, value, message):
    client.force_login(cast.member)
    response = client.post(url(cast), {"review_interval_months": value})
    assert response.status_code == 200
    assert response.context["form"].errors["review_interval_months"] == [message]
    cast.workload.refresh_from_db()
    assert cast.workload.review_interval_months == 12


@pytest.mark.parametrize("who", ["viewer", "finance"])
def test_only_editors_change_the_cadence_or_record_incidents(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.post(url(cast), {"review_interval_months": "6"}).status_code == 403
    incident = {"occurred_on": "2027-02-26", "summary": "Outage"}
    assert client.post(url(cast, "reviews:incident_record"), incident).status_code == 403
    assert not ReviewSession.objects.exists()


def test_outsider_gets_404(client, cast):
    client.force_login(cast.outsider)
    assert client.get(url(cast)).status_code == 404
    assert client.post(url(cast), {"review_interval_months": "6"}).status_code == 404
    assert client.post(url(cast, "reviews:incident_record"), {}).status_code == 404


def test_wrong_methods(client, cast):
    client.force_login(cast.member)
    assert client.put(url(cast)).status_code == 405
    assert client.get(url(cast, "reviews:incident_record")).status_code == 405


def test_recording_an_incident_goes_to_the_new_review(client, cast, lenses, frozen):
    client.force_login(cast.member)
    response = client.post(
        url(cast, "reviews:incident_record"),
        {"occurred_on": "2027-02-26", "summary": "Checkout down: expired certificate"},
    )
    session = ReviewSession.objects.get(kind=SessionKind.POST_INCIDENT)
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:session_detail", args=[session.uuid])
    assert session.participants.get(user=cast.member).is_facilitator


def test_recording_an_incident_with_htmx_redirects_the_page(client, cast, lenses, frozen):
    client.force_login(cast.member)
    response = client.post(
        url(cast, "reviews:incident_record"),
        {"occurred_on": "2027-02-26", "summary": "Checkout down"},
        HTTP_HX_REQUEST="true",
    )
    session = ReviewSession.objects.get()
    assert response["HX-Redirect"] == reverse("reviews:session_detail", args=[session.uuid])


def test_an_incident_in_the_future_is_refused_with_the_field_named(client, cast, lenses, frozen):
    client.force_login(cast.member)
    response = client.post(
        url(cast, "reviews:incident_record"),
        {"occurred_on": "2027-03-05", "summary": "Outage"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="incident"' in body and "The incident date cannot be in the future." in body
    assert not ReviewSession.objects.exists()


def test_the_workload_page_shows_the_cadence_card(client, cast, lenses, frozen):
    cast.workload.next_review_due_on = date(2027, 2, 20)
    cast.workload.save(update_fields=["next_review_due_on"])
    client.force_login(cast.member)
    body = client.get(
        reverse("reviews:workload_detail", args=[cast.workload.uuid])
    ).content.decode()
    assert "Review cadence" in body and "A critical workload has a full review" in body
    assert "20 Feb 2027" in body and "overdue" in body
    assert url(cast) in body and "Record an incident" in body


def test_the_workload_page_links_to_the_follow_ups_of_a_published_plan(client, cast, lenses):
    session = held(cast.workload, date(2027, 1, 10), SessionKind.PERIODIC, phase=Phase.FOLLOW_UP)
    ReviewSession.objects.filter(pk=session.pk).update(plan_published_at=datetime.now(UTC))
    client.force_login(cast.viewer)
    body = client.get(
        reverse("reviews:workload_detail", args=[cast.workload.uuid])
    ).content.decode()
    assert reverse("actions:session_followup", args=[session.uuid]) in body
    assert "Record an incident" not in body


def test_the_cadence_card_names_the_review_already_planned(client, cast, lenses, frozen):
    planned = held(cast.workload, date(2027, 3, 20), SessionKind.PERIODIC, phase=Phase.PREPARATION)
    held(cast.workload, date(2026, 12, 1), SessionKind.PERIODIC, phase=Phase.PREPARATION)  # past
    client.force_login(cast.viewer)
    body = client.get(
        reverse("reviews:workload_detail", args=[cast.workload.uuid])
    ).content.decode()
    card = body[body.index("cadence-card") :]
    card = card[: card.index("</section>")]
    assert "Planned" in card and "20 Mar 2027" in card
    assert reverse("reviews:session_detail", args=[planned.uuid]) in card
    assert "1 Dec 2026" not in card


def test_the_cadence_card_has_no_planned_line_without_an_upcoming_review(
    client, cast, lenses, frozen
):
    client.force_login(cast.viewer)
    body = client.get(
        reverse("reviews:workload_detail", args=[cast.workload.uuid])
    ).content.decode()
    assert "<dt>Planned</dt>" not in body


# --- The next review, always known -----------------------------------------------------------


def test_publishing_the_plan_sets_the_next_review_and_its_kind(cast, lenses):
    """Not when the review closes: a critical workload's monthly light review is known (and
    reminded) while its quarterly review is still in follow-up."""
    from actions import items
    from actions import plan as action_plan

    workload = cast.workload
    with travel(date(2027, 3, 1), 9):
        session = held(
            workload, date(2027, 3, 15), SessionKind.CRITICAL_QUARTERLY, Phase.ACTION_PLAN
        )
        items.action_create(
            workload=workload,
            session=session,
            user=cast.member,
            title="Multi-AZ",
            owner=cast.member,
            due_on=date(2027, 5, 1),
            measurable_outcome="Failover drill passes",
        )
    with travel(date(2027, 4, 5), 9):
        action_plan.plan_publish(session=session, user=cast.member)
    workload.refresh_from_db()
    assert (workload.next_review_due_on, workload.next_review_kind) == (
        date(2027, 4, 15),
        SessionKind.MONTHLY_LIGHT,
    )
    assert workload.next_review_kind_label == "Monthly light review"


def test_a_post_incident_review_does_not_reset_the_periodic_clock(cast, lenses):
    workload = periodic(cast, 6)
    held(workload, date(2027, 1, 10), SessionKind.PERIODIC)
    held(workload, date(2027, 4, 2), SessionKind.POST_INCIDENT)
    assert cadence.next_review_due(workload, after=date(2027, 4, 20)) == (
        date(2027, 7, 10),
        SessionKind.PERIODIC,
    )


def test_a_post_incident_review_leaves_the_critical_light_reviews_in_place(cast, lenses):
    held(cast.workload, date(2027, 1, 10), SessionKind.CRITICAL_QUARTERLY)
    held(cast.workload, date(2027, 1, 20), SessionKind.POST_INCIDENT)
    assert cadence.next_review_due(cast.workload, after=date(2027, 1, 25)) == (
        date(2027, 2, 10),
        SessionKind.MONTHLY_LIGHT,
    )


def test_a_new_workload_knows_its_first_review(client, cast, lenses, frozen):
    client.force_login(cast.member)
    response = client.post(
        reverse("reviews:workload_create"),
        {
            "team": cast.team.pk,
            "name": "Payments",
            "environment": "production",
            "workload_type": "financial",
            "is_critical": "on",
            "owner": cast.member.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    workload = Workload.objects.get(name="Payments")
    assert (workload.next_review_due_on, workload.next_review_kind) == (
        date(2027, 3, 15),
        SessionKind.CRITICAL_QUARTERLY,
    )


def test_the_cadence_card_shows_the_next_reviews_date_and_kind(client, cast, lenses, frozen):
    cadence.cadence_plan_next(workload=cast.workload, after=TODAY)
    client.force_login(cast.viewer)
    body = client.get(
        reverse("reviews:workload_detail", args=[cast.workload.uuid])
    ).content.decode()
    card = body[body.index("cadence-card") :]
    card = card[: card.index("</section>")]
    assert "15 Mar 2027" in card and "Critical workload, quarterly" in card
