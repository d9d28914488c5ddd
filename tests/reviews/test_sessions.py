"""Planning a review and its overview page: schedule, checklist, budgets, participants."""

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from questionnaires.models import Question
from reviews import sessions
from reviews.models import Participant, ParticipantRole, ReviewSession


def create_data(**overrides):
    start = (timezone.localtime() + timedelta(days=20)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    data = {
        "title": "Checkout review",
        "kind": "periodic",
        "review_starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "review_duration_minutes": "240",
        "preparation_days": "10",
    }
    data.update(overrides)
    return data


def test_plan_a_review_pins_lenses_and_schedules_phases(client, cast, lenses):
    client.force_login(cast.member)
    url = reverse("reviews:session_create", args=[cast.workload.uuid])
    assert "Plan a review" in client.get(url).content.decode()
    response = client.post(url, create_data(lenses=[lenses["Serverless Lens"].pk]))
    session = ReviewSession.objects.get()
    assert response["Location"] == reverse("reviews:session_detail", args=[session.uuid])
    assert [sl.lens.name for sl in session.session_lenses.all()] == [
        "Well-Architected Framework",
        "Serverless Lens",
    ]
    assert (
        session.answers.count()
        == Question.objects.filter(
            pillar__lens__in=[lenses["Well-Architected Framework"], lenses["Serverless Lens"]]
        ).count()
    )
    day = timezone.localdate(session.review_starts_at)
    assert session.preparation_starts_on == day - timedelta(days=10)
    assert session.analysis_due_on == day + timedelta(days=7)
    assert session.action_plan_due_on == day + timedelta(days=21)
    assert Participant.objects.get(session=session).role == ParticipantRole.FACILITATOR
    assert sum(b.minutes for b in session.budgets.all()) in range(230, 251)


def test_a_new_lens_version_does_not_move_existing_reviews(cast, lenses, review):
    from questionnaires.services import lens_export, lens_import

    framework = lenses["Well-Architected Framework"]
    changed = lens_export(framework).replace(
        "How do you decide what your operations work should focus on first?", "Reworded?"
    )
    newer = lens_import(raw=changed, builtin=True).lens  # as load_lenses does
    assert newer.version == 2
    assert list(review.lenses.all()) == [framework]
    fresh = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Next",
        kind="periodic",
        review_starts_at=timezone.now(),
    )
    assert list(fresh.lenses.all()) == [newer]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"review_starts_at": "tomorrow"}, "review_starts_at"),
        ({"preparation_days": "30"}, "preparation_days"),
        ({"review_duration_minutes": "5"}, "review_duration_minutes"),
        ({"kind": "whenever"}, "kind"),
    ],
)
def test_plan_a_review_validates(client, cast, lenses, overrides, field):
    client.force_login(cast.member)
    response = client.post(
        reverse("reviews:session_create", args=[cast.workload.uuid]), create_data(**overrides)
    )
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not ReviewSession.objects.exists()


@pytest.mark.parametrize("who", ["finance", "viewer"])
def test_only_editors_plan_reviews(client, cast, lenses, who):
    client.force_login(getattr(cast, who))
    assert (
        client.get(reverse("reviews:session_create", args=[cast.workload.uuid])).status_code == 403
    )


def test_detail_shows_timeline_progress_and_people(
    client, cast, review, django_assert_max_num_queries
):
    client.force_login(cast.viewer)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("reviews:session_detail", args=[review.uuid]))
    body = response.content.decode()
    assert "0 of 57 questions" in body and "Alice Admin" in body
    assert "Invitations" not in body  # not for viewers
    assert "Move to review" not in body
    client.force_login(cast.admin)
    body = client.get(reverse("reviews:session_detail", args=[review.uuid])).content.decode()
    assert "Invitations" in body and "Move to review" in body


def test_schedule_edit_validates_the_order_of_dates(client, cast, review):
    client.force_login(cast.admin)
    url = reverse("reviews:session_schedule", args=[review.uuid])
    start = timezone.localtime(review.review_starts_at)
    data = {
        "title": "Renamed",
        "kind": "periodic",
        "preparation_starts_on": (start + timedelta(days=1)).date().isoformat(),
        "review_starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "review_duration_minutes": "240",
        "analysis_due_on": (start - timedelta(days=1)).date().isoformat(),
        "action_plan_due_on": (start - timedelta(days=3)).date().isoformat(),
    }
    errors = client.post(url, data).context["form"].errors
    assert errors["preparation_starts_on"] == ["Preparation must start before the review."]
    assert errors["analysis_due_on"] == ["The analysis cannot be due before the review."]
    assert errors["action_plan_due_on"] == ["The action plan cannot be due before the analysis."]
    data.update(
        preparation_starts_on=(start - timedelta(days=7)).date().isoformat(),
        analysis_due_on=(start + timedelta(days=5)).date().isoformat(),
        action_plan_due_on=(start + timedelta(days=15)).date().isoformat(),
    )
    assert client.post(url, data).status_code == 302
    review.refresh_from_db()
    assert review.title == "Renamed" and review.review_duration_minutes == 240


def test_only_the_facilitator_edits_the_schedule(client, cast, review):
    client.force_login(cast.member)
    assert client.get(reverse("reviews:session_schedule", args=[review.uuid])).status_code == 403


def test_checklist_is_saved_and_shown_to_the_facilitator(client, cast, review):
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    client.force_login(cast.member)
    url = reverse("reviews:session_checklist", args=[review.uuid])
    assert (
        client.post(
            url,
            {"read_documentation": "on", "brought_metrics": "on", "confirmed_attendance": "on"},
            HTTP_HX_REQUEST="true",
        ).status_code
        == 204
    )
    me = Participant.objects.get(session=review, user=cast.member)
    assert me.is_ready
    client.force_login(cast.admin)
    body = client.get(reverse("reviews:session_detail", args=[review.uuid])).content.decode()
    assert "1 of 2 ready" in body


def test_non_participants_have_no_checklist(client, cast, review):
    client.force_login(cast.viewer)
    assert (
        client.post(reverse("reviews:session_checklist", args=[review.uuid]), {}).status_code == 403
    )


def test_budgets_are_saved_by_the_facilitator_only(client, cast, review):
    budget = review.budgets.first()
    url = reverse("reviews:session_budgets", args=[review.uuid])
    client.force_login(cast.member)
    assert client.post(url, {f"pillar_{budget.pillar_id}": "5"}).status_code == 403
    client.force_login(cast.admin)
    data = {f"pillar_{b.pillar_id}": str(b.minutes) for b in review.budgets.all()}
    data[f"pillar_{budget.pillar_id}"] = "90"
    client.post(url, data)
    budget.refresh_from_db()
    assert budget.minutes == 90
    data[f"pillar_{budget.pillar_id}"] = "-3"
    response = client.post(url, data, follow=True)
    assert "between 0 and 600" in response.content.decode()


def test_participants_roles_and_the_last_facilitator(client, cast, review):
    bob = Participant.objects.create(
        session=review, user=cast.member, role=ParticipantRole.OPERATIONS
    )
    alice = Participant.objects.get(session=review, user=cast.admin)
    client.force_login(cast.admin)
    client.post(
        reverse("reviews:participant_role", args=[review.uuid, bob.pk]), {"role": "security"}
    )
    bob.refresh_from_db()
    assert bob.role == "security"
    response = client.post(
        reverse("reviews:participant_role", args=[review.uuid, alice.pk]),
        {"role": "observer"},
        follow=True,
    )
    assert "A review needs a facilitator" in response.content.decode()
    response = client.post(
        reverse("reviews:participant_remove", args=[review.uuid, alice.pk]), follow=True
    )
    assert "A review needs a facilitator" in response.content.decode()
    client.post(reverse("reviews:participant_remove", args=[review.uuid, bob.pk]))
    assert not Participant.objects.filter(pk=bob.pk).exists()
    client.force_login(cast.member)
    assert (
        client.post(reverse("reviews:participant_remove", args=[review.uuid, alice.pk])).status_code
        == 403
    )


def test_workload_page_lists_its_reviews(client, cast, review):
    client.force_login(cast.viewer)
    body = client.get(
        reverse("reviews:workload_detail", args=[cast.workload.uuid])
    ).content.decode()
    assert "Checkout review" in body and "0/57" in body


def test_session_fragments(client, cast, review):
    client.force_login(cast.viewer)
    for name in ("participants", "progress"):
        response = client.get(
            reverse("reviews:session_fragment", args=[review.uuid, name]), HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200 and "<html" not in response.content.decode()
    assert (
        client.get(reverse("reviews:session_fragment", args=[review.uuid, "x"])).status_code == 403
    )


def test_plan_dates_follow_the_seeds():
    planned = sessions.plan_dates(
        datetime(2026, 3, 10, 9, tzinfo=timezone.get_current_timezone()), preparation_days=7
    )
    assert planned == {
        "preparation_starts_on": date(2026, 3, 3),
        "analysis_due_on": date(2026, 3, 17),
        "action_plan_due_on": date(2026, 3, 31),
    }


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("reviews:session_detail", lambda c, r: [r.uuid]),
        ("reviews:session_fragment", lambda c, r: [r.uuid, "participants"]),
        ("reviews:session_live", lambda c, r: [r.uuid]),
        ("reviews:workload_list", lambda c, r: []),
        ("reviews:workload_detail", lambda c, r: [c.workload.uuid]),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_read_views_answer_get_and_head_only(client, cast, review, name, args):
    client.force_login(cast.admin)
    url = reverse(name, args=args(cast, review))
    before = ReviewSession.objects.get(pk=review.pk).phase
    assert client.post(url, {"to": "review"}).status_code == 405
    assert client.head(url).status_code in (200, 302)
    assert ReviewSession.objects.get(pk=review.pk).phase == before
