"""Light reviews: a short questionnaire from the last full review's high risks and the
questions behind its open actions, pre-filled with its answers; planned through the form,
shown with the open actions of the last plan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews import answers, sessions
from reviews.errors import ServiceError
from reviews.lightreview import NO_FULL_REVIEW, NOTHING_LEFT, last_full_review
from reviews.models import (
    Answer,
    AnswerChange,
    ChoiceNotApplicable,
    Phase,
    PillarBudget,
    ReviewSession,
    SessionKind,
)
from tests.actions.analysis_helpers import analysed, framework_answer, move_to
from tests.conftest import selected
from tests.reviews.light_helpers import DONE, HIGH, OPEN, Followed, hold_full_review, plan_light
from tests.reviews.test_guests import accept_as_new_user


@pytest.fixture
def followed(cast, review) -> Followed:
    return hold_full_review(cast, review)


THIS_QUESTION = '<span class="badge badge-accent">this question</span>'


def idents(session: ReviewSession) -> set[str]:
    return set(session.answers.values_list("question__ident", flat=True))


# --- What a light review contains ---------------------------------------------------------


def test_a_light_review_has_the_high_risks_and_the_questions_of_open_actions(cast, followed):
    light = plan_light(cast)

    assert light.kind == SessionKind.MONTHLY_LIGHT
    assert light.follows == followed.review
    # The medium risk whose action is done, and every question without a high risk, stay out.
    assert idents(light) == {HIGH, OPEN}
    assert [sl.lens_id for sl in light.session_lenses.order_by("order")] == [
        sl.lens_id for sl in followed.review.session_lenses.order_by("order")
    ]


def test_answers_exist_only_for_those_questions_and_budgets_follow_them(cast, followed):
    light = plan_light(cast)

    answers = Answer.objects.filter(session=light).select_related("question__pillar")
    assert answers.count() == 2
    pillars = {a.question.pillar_id for a in answers}
    budgets = dict(PillarBudget.objects.filter(session=light).values_list("pillar_id", "minutes"))
    # One question in each of two pillars: the hour is split between them, nothing else.
    assert set(budgets) == pillars
    assert sorted(budgets.values()) == [30, 30]


def test_answers_start_as_the_last_reviews_and_are_marked_until_confirmed(cast, followed):
    # A best practice of the high-risk answer marked not applicable (it stays high).
    earlier = framework_answer(followed.review, HIGH)
    choice = next(c for c in earlier.question.choices.all() if not c.is_none_of_these)
    ChoiceNotApplicable.objects.create(
        answer=earlier, choice=choice, reason="business_priorities", notes="Not for us"
    )

    light = plan_light(cast)

    for ident, risk in ((HIGH, "HIGH"), (OPEN, "MEDIUM")):
        before, now = framework_answer(followed.review, ident), framework_answer(light, ident)
        assert selected(now) == selected(before)
        assert now.risk == risk
        assert now.from_template and now.notes == before.notes
        change = AnswerChange.objects.get(answer=now)
        assert change.action == AnswerChange.Action.CARRIED
        assert change.detail == followed.review.title
    assert framework_answer(light, HIGH).notes == "Quotas are tracked by hand."
    carried = ChoiceNotApplicable.objects.get(answer=framework_answer(light, HIGH))
    assert (carried.choice, carried.notes) == (choice, "Not for us")


def test_confirming_a_carried_answer_says_where_it_came_from(cast, followed):
    light = plan_light(cast)
    answer = framework_answer(light, HIGH)

    answers.answer_confirm(answer=answer, user=cast.member)

    answer.refresh_from_db()
    assert not answer.from_template and answer.risk == "HIGH"
    confirmed = AnswerChange.objects.get(answer=answer, action=AnswerChange.Action.CONFIRMED)
    assert confirmed.detail == "kept the answer from the last review"


def test_the_latest_full_review_is_followed_not_a_light_or_post_incident_one(
    cast, review, followed, lenses
):
    later = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Checkout quarterly",
        kind="critical_quarterly",
        review_starts_at=review.review_starts_at + timedelta(days=1),
    )
    analysed(later, cast, {"priorities": "HIGH"})
    first_light = plan_light(cast)
    move_to(first_light, Phase.ANALYSIS)
    incident = sessions.incident_record(
        workload=cast.workload,
        user=cast.admin,
        occurred_on=timezone.localdate(),
        summary="Checkout down",
    )
    move_to(incident, Phase.ANALYSIS)
    ReviewSession.objects.filter(pk=incident.pk).update(
        review_starts_at=review.review_starts_at + timedelta(days=30)
    )

    assert last_full_review(cast.workload) == later
    assert idents(plan_light(cast)) == {"priorities"}


def test_the_question_of_a_done_action_is_left_out(cast, followed):
    assert DONE not in idents(plan_light(cast))


def test_without_a_held_full_review_a_light_review_is_refused(cast, review):
    # A review still in preparation has not been held.
    with pytest.raises(ServiceError) as refused:
        plan_light(cast)

    assert str(refused.value) == NO_FULL_REVIEW
    assert refused.value.field == "kind"
    assert ReviewSession.objects.filter(kind=SessionKind.MONTHLY_LIGHT).count() == 0


def test_a_post_incident_review_alone_is_not_followed(cast, lenses):
    incident = sessions.incident_record(
        workload=cast.workload, user=cast.admin, occurred_on=timezone.localdate(), summary="Down"
    )
    analysed(incident, cast, {HIGH: "HIGH"})

    with pytest.raises(ServiceError, match="has none yet"):
        plan_light(cast)


def test_a_full_review_that_left_nothing_open_gives_no_light_review(cast, review):
    analysed(review, cast, {"priorities": "NONE", OPEN: "MEDIUM"})

    with pytest.raises(ServiceError) as refused:
        plan_light(cast)

    assert str(refused.value) == NOTHING_LEFT
    assert not ReviewSession.objects.filter(kind=SessionKind.MONTHLY_LIGHT).exists()


def test_a_template_does_not_apply_to_a_light_review(cast, followed):
    from reviews.reviewtemplates import template_create_from_review

    template = template_create_from_review(
        session=followed.review,
        user=cast.admin,
        lens=framework_answer(followed.review, HIGH).question.pillar.lens,
        name="Baseline",
    )

    with pytest.raises(ServiceError, match="not from a template"):
        plan_light(cast, template=template)


def test_a_review_cannot_become_light_nor_stop_being_light(cast, review, followed):
    light = plan_light(cast)

    for session, kind in ((light, SessionKind.PERIODIC), (review, SessionKind.MONTHLY_LIGHT)):
        with pytest.raises(ServiceError, match="plan a new review"):
            sessions.session_update_plan(session=session, user=cast.admin, kind=kind)
    sessions.session_update_plan(session=light, user=cast.admin, title="Light, October")
    light.refresh_from_db()
    assert (light.title, light.kind) == ("Light, October", SessionKind.MONTHLY_LIGHT)


# --- The form ------------------------------------------------------------------------------


def form_data(**overrides) -> dict:
    start = timezone.localtime() + timedelta(days=30)
    data = {
        "title": "Checkout: light review",
        "kind": "monthly_light",
        "review_starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "review_duration_minutes": "60",
        "preparation_days": "7",
    }
    data.update(overrides)
    return data


def test_the_form_plans_a_light_review(client, cast, followed):
    client.force_login(cast.member)
    url = reverse("reviews:session_create", args=[cast.workload.uuid])

    response = client.post(url, form_data())

    light = ReviewSession.objects.get(kind=SessionKind.MONTHLY_LIGHT)
    assert response["Location"] == reverse("reviews:session_detail", args=[light.uuid])
    assert idents(light) == {HIGH, OPEN}


def test_the_form_says_why_there_is_no_light_review_yet(client, cast, lenses):
    client.force_login(cast.member)
    url = reverse("reviews:session_create", args=[cast.workload.uuid])

    response = client.post(url, form_data())

    assert response.status_code == 200
    assert "A light review follows a full review: this workload has none yet." in (
        response.content.decode()
    )
    assert not ReviewSession.objects.exists()


def test_the_form_explains_the_light_kind_and_takes_the_kind_from_the_link(client, cast, lenses):
    client.force_login(cast.member)
    url = reverse("reviews:session_create", args=[cast.workload.uuid])

    page = client.get(f"{url}?kind=monthly_light").content.decode()

    assert '<option value="monthly_light" selected>' in page
    assert "A monthly light review only goes through the last full review's high risks" in page
    assert 'name="review_duration_minutes" value="60"' in page
    # An unknown kind is ignored: the cadence's default for a critical workload.
    page = client.get(f"{url}?kind=weekly").content.decode()
    assert '<option value="critical_quarterly" selected>' in page


def test_the_cadence_page_plans_the_next_review_with_its_kind(client, cast, lenses):
    client.force_login(cast.member)
    cast.workload.next_review_kind = SessionKind.MONTHLY_LIGHT
    cast.workload.save(update_fields=["next_review_kind"])
    create = reverse("reviews:session_create", args=[cast.workload.uuid])

    page = client.get(reverse("reviews:workload_cadence", args=[cast.workload.uuid]))

    assert f'href="{create}?kind=monthly_light"' in page.content.decode()


def test_the_schedule_form_refuses_to_make_a_review_light(client, cast, review, followed):
    client.force_login(cast.admin)
    url = reverse("reviews:session_schedule", args=[review.uuid])
    start = timezone.localtime(review.review_starts_at)

    response = client.post(
        url,
        {
            "title": review.title,
            "kind": "monthly_light",
            "preparation_starts_on": review.preparation_starts_on.isoformat(),
            "review_starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "review_duration_minutes": "300",
            "analysis_due_on": review.analysis_due_on.isoformat(),
            "action_plan_due_on": review.action_plan_due_on.isoformat(),
        },
    )

    assert response.status_code == 200
    assert "cannot become a light review" in response.content.decode()
    review.refresh_from_db()
    assert review.kind == SessionKind.PERIODIC


# --- The pages -----------------------------------------------------------------------------


def test_the_session_page_shows_the_open_actions_of_the_last_plan(client, cast, followed):
    light = plan_light(cast)
    client.force_login(cast.finance)

    page = client.get(reverse("reviews:session_detail", args=[light.uuid])).content.decode()

    assert "Light review: 2 questions from the last review's high risks and open actions." in page
    action = followed.open_action
    assert reverse("actions:action_detail", args=[action.uuid]) in page
    assert action.title in page and "Bob Member" in page and "In progress" in page
    assert f"due {action.due_on:%-d %b %Y}" in page
    assert followed.done_action.title not in page


def test_the_live_page_shows_the_actions_beside_the_question(client, cast, followed):
    light = plan_light(cast)
    client.force_login(cast.member)
    question = framework_answer(light, OPEN).question

    page = client.get(reverse("reviews:question", args=[light.uuid, question.uuid]))

    body = page.content.decode()
    assert "Light review: 2 questions" in body
    assert followed.open_action.title in body and THIS_QUESTION in body
    assert "From the last review" in body and "From template" not in body
    other = framework_answer(light, HIGH).question
    body = client.get(reverse("reviews:question", args=[light.uuid, other.uuid])).content.decode()
    assert followed.open_action.title in body and THIS_QUESTION not in body


def test_a_guest_sees_the_open_actions_without_links_to_team_pages(client, cast, followed):
    light = plan_light(cast)
    guest = accept_as_new_user(client, light, cast.admin)
    client.force_login(guest)

    page = client.get(reverse("reviews:session_detail", args=[light.uuid])).content.decode()

    assert followed.open_action.title in page
    assert reverse("actions:action_detail", args=[followed.open_action.uuid]) not in page
    assert reverse("reviews:session_detail", args=[followed.review.uuid]) not in page


def test_a_full_review_has_no_light_panel(client, cast, review):
    client.force_login(cast.member)

    page = client.get(reverse("reviews:session_detail", args=[review.uuid])).content.decode()

    assert "Light review:" not in page and 'id="light-review"' not in page
