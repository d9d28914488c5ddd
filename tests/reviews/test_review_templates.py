"""Review templates: made from a finished review (admins and members), seen by every team
role, another team's is a 404; a review planned from one starts with its answers, notes and
N/A reasons, each marked "from template" on the live page until someone confirms it."""

import pytest
from django.urls import reverse

from reviews import answers, reviewtemplates, sessions
from reviews.errors import ServiceError
from reviews.models import Answer, AnswerChange, Phase, ReviewSession, ReviewTemplate
from tests.reviews.test_sessions import create_data

FRAMEWORK = "Well-Architected Framework"


def framework_answers(session) -> list[Answer]:
    return list(
        Answer.objects.filter(session=session, question__pillar__lens__name=FRAMEWORK)
        .select_related("question")
        .order_by("question__pillar__order", "question__order")
    )


@pytest.fixture
def finished(review, cast):
    """The review, answered in part (choices, a question that does not apply, notes) and
    moved on to analysis."""
    first, second, third = framework_answers(review)[:3]
    for ident in [c.ident for c in first.question.choices.all()][:2]:
        answers.answer_toggle(answer=first, user=cast.admin, choice_ident=ident, select=True)
    answers.answer_set_applicability(
        answer=second, user=cast.admin, not_applicable=True, reason="out_of_scope"
    )
    answers.answer_save_notes(
        answer=third, user=cast.admin, text="Platform runs this.", base_revision=0
    )
    ReviewSession.objects.filter(pk=review.pk).update(phase=Phase.ANALYSIS)
    review.refresh_from_db()
    return review


@pytest.fixture
def template(finished, cast, lenses):
    return reviewtemplates.template_create_from_review(
        session=finished, user=cast.member, lens=lenses[FRAMEWORK], name="Platform answers"
    )


@pytest.mark.parametrize("role", ["admin", "member"])
def test_admins_and_members_make_a_template_from_a_finished_review(
    client, cast, finished, lenses, role
):
    client.force_login(getattr(cast, role))
    url = reverse("reviews:template_create", args=[finished.uuid])
    assert 'name="lens"' in client.get(url).content.decode()
    response = client.post(
        url, {"name": "Platform answers", "lens": str(lenses[FRAMEWORK].uuid), "description": ""}
    )
    template = ReviewTemplate.objects.get()
    assert response["Location"] == reverse("reviews:template_detail", args=[template.uuid])
    assert (template.team, template.lens, template.source_session) == (
        cast.team,
        lenses[FRAMEWORK],
        finished,
    )
    first, second, third = framework_answers(finished)[:3]
    rows = {row.question_ident: row for row in template.answers.all()}
    assert set(rows) == {first.question.ident, second.question.ident, third.question.ident}
    assert len(rows[first.question.ident].choices) == 2
    assert (
        rows[second.question.ident].not_applicable,
        rows[second.question.ident].not_applicable_reason,
    ) == (
        True,
        "out_of_scope",
    )
    assert rows[third.question.ident].notes == "Platform runs this."


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_finance_and_viewers_see_templates_but_do_not_make_or_delete_them(
    client, cast, template, finished, lenses, role
):
    client.force_login(getattr(cast, role))
    listing = client.get(reverse("reviews:template_list", args=[cast.team.uuid]))
    assert "Platform answers" in listing.content.decode()
    detail = client.get(reverse("reviews:template_detail", args=[template.uuid])).content.decode()
    assert "Platform runs this." in detail and "Delete" not in detail
    create = reverse("reviews:template_create", args=[finished.uuid])
    assert client.get(create).status_code == 403
    data = {"name": "Mine", "lens": str(lenses[FRAMEWORK].uuid)}
    assert client.post(create, data).status_code == 403
    assert client.post(reverse("reviews:template_delete", args=[template.uuid])).status_code == 403
    assert list(ReviewTemplate.objects.all()) == [template]


def test_a_member_deletes_a_template(client, cast, template):
    client.force_login(cast.member)
    response = client.post(reverse("reviews:template_delete", args=[template.uuid]))
    assert response["Location"] == reverse("reviews:template_list", args=[cast.team.uuid])
    assert not ReviewTemplate.objects.exists()
    assert client.get(reverse("reviews:template_delete", args=[template.uuid])).status_code == 405


def test_an_unfinished_review_makes_no_template(client, cast, review, lenses):
    client.force_login(cast.member)
    url = reverse("reviews:template_create", args=[review.uuid])
    response = client.post(url, {"name": "Too early", "lens": str(lenses[FRAMEWORK].uuid)})
    assert response.status_code == 400
    assert "A template is made from a finished review" in response.content.decode()
    assert not ReviewTemplate.objects.exists()


def test_a_bad_form_says_what(client, cast, finished):
    client.force_login(cast.member)
    url = reverse("reviews:template_create", args=[finished.uuid])
    response = client.post(url, {"name": "", "lens": "nonsense"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"name", "lens"}


def test_another_teams_template_is_404(client, cast, template):
    client.force_login(cast.outsider)
    assert client.get(reverse("reviews:template_detail", args=[template.uuid])).status_code == 404
    assert client.get(reverse("reviews:template_list", args=[cast.team.uuid])).status_code == 404


def test_a_review_planned_from_a_template_is_prefilled_and_marked(client, cast, template, finished):
    client.force_login(cast.member)
    url = reverse("reviews:session_create", args=[cast.workload.uuid])
    assert "Platform answers" in client.get(url).content.decode()
    client.post(url, create_data(title="Next review", template=str(template.uuid)))
    new = ReviewSession.objects.get(title="Next review")
    before, after = framework_answers(finished)[:3], framework_answers(new)[:3]
    for old, fresh in zip(before, after, strict=True):
        assert fresh.question_id == old.question_id
        assert set(fresh.selections.values_list("choice__ident", flat=True)) == set(
            old.selections.values_list("choice__ident", flat=True)
        )
        assert (fresh.not_applicable, fresh.not_applicable_reason, fresh.notes, fresh.risk) == (
            old.not_applicable,
            old.not_applicable_reason,
            old.notes,
            old.risk,
        )
        assert fresh.from_template
        assert fresh.changes.get().action == AnswerChange.Action.TEMPLATE
    assert after[0].risk != "UNANSWERED" and after[1].risk == "NOT_APPLICABLE"
    # the rest of the review is not marked
    assert Answer.objects.filter(session=new, from_template=True).count() == 3


def test_the_live_page_marks_a_template_answer_until_it_is_confirmed(client, cast, template):
    new = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Next review",
        kind="periodic",
        review_starts_at=template.created_at,
        template=template,
    )
    first = framework_answers(new)[0]
    page = reverse("reviews:question", args=[new.uuid, first.question.uuid])
    client.force_login(cast.admin)
    body = client.get(page).content.decode()
    assert "From template" in body and ">Confirm</button>" in body
    response = client.post(
        reverse("reviews:answer_confirm", args=[new.uuid, first.question.uuid]),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    first.refresh_from_db()
    assert not first.from_template
    assert first.changes.filter(action=AnswerChange.Action.CONFIRMED).get().detail == (
        "kept the answer from the template"
    )
    assert "From template" not in client.get(page).content.decode()


def test_another_teams_template_is_not_offered_nor_used(client, cast, template):
    other = ReviewTemplate.objects.create(team=cast.other_team, name="Bravo's", lens=template.lens)
    client.force_login(cast.member)
    url = reverse("reviews:session_create", args=[cast.workload.uuid])
    assert "Bravo&#x27;s" not in client.get(url).content.decode()
    response = client.post(url, create_data(title="Sneaky", template=str(other.uuid)))
    assert "Select a valid choice" in response.content.decode()
    assert not ReviewSession.objects.filter(title="Sneaky").exists()
    with pytest.raises(ServiceError, match="another team"):
        sessions.session_create(
            workload=cast.workload,
            user=cast.member,
            title="Sneaky",
            kind="periodic",
            review_starts_at=template.created_at,
            template=other,
        )
    assert not ReviewSession.objects.filter(title="Sneaky").exists()


def test_the_list_takes_a_fixed_number_of_queries(
    client, cast, finished, lenses, django_assert_max_num_queries
):
    for i in range(3):
        reviewtemplates.template_create_from_review(
            session=finished, user=cast.member, lens=lenses[FRAMEWORK], name=f"Template {i}"
        )
    client.force_login(cast.viewer)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("reviews:template_list", args=[cast.team.uuid]))
    assert response.content.decode().count("Template ") >= 3
