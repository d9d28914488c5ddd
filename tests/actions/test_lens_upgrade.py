"""Upgrading a review to a newer version of its lens (as AWS's UpgradeLensReview): v1 -> v2
with changed, new and removed questions. Answers carry over by question and choice id, the
questions whose choices changed are flagged to look again (shown on the live page, cleared
by confirming), and a milestone holds the review as it was. Preparation and review only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.lensupgrade import review_lens_upgrade
from actions.models import Finding
from questionnaires.models import Question
from questionnaires.services import lens_import
from reviews import answers, choices, sessions
from reviews.errors import ServiceError
from reviews.lenslibrary import team_library
from reviews.models import Answer, AnswerChange, Milestone, Phase, ReviewSession
from tests.questionnaires.test_differences import version_one, version_two
from tests.questionnaires.test_lensfile import raw


def answer_to(session, ident: str) -> Answer:
    return Answer.objects.get(
        session=session, question__ident=ident, question__pillar__lens__name="Test lens"
    )


def picked(answer: Answer) -> set[str]:
    return set(answer.selections.values_list("choice__ident", flat=True))


@pytest.fixture
def v1(cast, lenses):
    return lens_import(raw=raw(version_one()), library=team_library(cast.team)).lens


@pytest.fixture
def answered(cast, v1) -> ReviewSession:
    """A review on v1 with answers to a changed (q1), a removed (q2), a changed-but-same-
    choices (q3) and a moved (q4) question; then v2 is imported."""
    review = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Platform review",
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=10),
        lenses=[v1],
    )
    for ident, picks in (("q1", "ab"), ("q2", "a"), ("q3", "x"), ("q4", "a")):
        for pick in picks:
            answers.answer_toggle(
                answer=answer_to(review, ident), user=cast.admin, choice_ident=pick, select=True
            )
    q3 = answer_to(review, "q3")
    choices.choice_mark_not_applicable(
        answer=q3, user=cast.admin, choice_ident="y", reason="out_of_scope", notes="not here"
    )
    answers.answer_save_notes(answer=q3, user=cast.admin, text="Kept notes", base_revision=0)
    lens_import(raw=raw(version_two()), library=team_library(cast.team))
    return review


def test_answers_carry_over_the_right_questions_are_flagged_and_a_milestone_holds_before(
    cast, v1, answered
):
    done = review_lens_upgrade(session=answered, user=cast.admin, lens=v1)
    v2 = done.target
    assert (v2.version, v2.version_label) == (2, "2.0")
    assert list(answered.lenses.filter(name="Test lens")) == [v2]
    # carried over by question and choice id
    q1, q3, q4 = (answer_to(answered, i) for i in ("q1", "q3", "q4"))
    assert {q1.question.pillar.lens, q3.question.pillar.lens, q4.question.pillar.lens} == {v2}
    assert (picked(q1), picked(q3), picked(q4)) == ({"a"}, {"x"}, {"a"})
    assert q3.notes == "Kept notes"
    assert list(q3.choice_exclusions.values_list("choice__ident", "reason", "notes")) == [
        ("y", "out_of_scope", "not here")
    ]
    # the risk follows v2's rules: q1 now needs a and c
    assert q1.risk == "HIGH"
    # q1's choices changed (b removed, c new): look again; q3 (an improvement text) and q4
    # (moved to another pillar) keep their choices: no flag
    assert (q1.look_again, q3.look_again, q4.look_again) == (True, False, False)
    assert done.flagged == ["q1"]
    # q2 was removed, q5 and q6 are new and unanswered
    assert not Answer.objects.filter(session=answered, question__ident="q2").exists()
    assert sorted(done.removed) == ["q2"] and sorted(done.added) == ["q5", "q6"]
    for ident in ("q5", "q6"):
        assert answer_to(answered, ident).risk == "UNANSWERED"
    # every answer of the review is on v2 now (and the framework's stay)
    assert not Answer.objects.filter(session=answered, question__pillar__lens=v1).exists()
    assert Answer.objects.filter(session=answered, question__pillar__lens=v2).count() == 6
    # the milestone holds the state from before
    milestone = Milestone.objects.get(session=answered, kind=Milestone.Kind.LENS_UPGRADE)
    assert milestone == done.milestone
    before = {a["question"]: a for a in milestone.snapshot["answers"] if a["lens"] == "Test lens"}
    assert before["q1"]["choices"] == ["a", "b"] and before["q1"]["lens_version"] == 1
    assert before["q2"]["choices"] == ["a"] and "q5" not in before
    # the history says so
    change = AnswerChange.objects.filter(answer=q1, action=AnswerChange.Action.UPGRADED).get()
    assert change.detail == "v1 · 1.0 → v2 · 2.0; its choices changed: look again"
    # pillar budgets follow: p3 went, p4 came
    pillars = set(answered.budgets.values_list("pillar__ident", flat=True))
    assert {"p1", "p2", "p4"} <= pillars and "p3" not in pillars


def test_what_points_at_a_question_follows_it(cast, v1, answered):
    q1 = answer_to(answered, "q1").question
    q2 = answer_to(answered, "q2").question
    ReviewSession.objects.filter(pk=answered.pk).update(focus_question=q1)
    Finding.objects.create(session=answered, question=q1, risk="HIGH")
    Finding.objects.create(session=answered, question=q2, risk="MEDIUM")
    done = review_lens_upgrade(session=answered, user=cast.admin, lens=v1)
    answered.refresh_from_db()
    assert answered.focus_question.pillar.lens == done.target
    assert list(
        Finding.objects.filter(session=answered).values_list(
            "question__ident", "question__pillar__lens"
        )
    ) == [("q1", done.target.pk)]


@pytest.mark.parametrize("phase", [Phase.ANALYSIS, Phase.ACTION_PLAN, Phase.CLOSED])
def test_after_the_review_phase_an_upgrade_is_refused_until_reopened(cast, v1, answered, phase):
    ReviewSession.objects.filter(pk=answered.pk).update(phase=phase)
    with pytest.raises(ServiceError, match="Reopen the review"):
        review_lens_upgrade(session=answered, user=cast.admin, lens=v1)
    assert list(answered.lenses.filter(name="Test lens")) == [v1]
    assert not Milestone.objects.exists()


def test_no_newer_version_is_refused(cast, lenses, review):
    framework = lenses["Well-Architected Framework"]
    with pytest.raises(ServiceError, match="is the newest version"):
        review_lens_upgrade(session=review, user=cast.admin, lens=framework)


def test_the_session_page_offers_the_upgrade_and_the_page_lists_the_difference(
    client, cast, v1, answered
):
    client.force_login(cast.member)
    page = client.get(reverse("reviews:session_detail", args=[answered.uuid])).content.decode()
    url = reverse("actions:lens_upgrade", args=[answered.uuid, v1.uuid])
    assert "Test lens v2 · 2.0 is out" in page and url in page
    body = client.get(url).content.decode()
    assert "Upgrade Test lens: v1 · 1.0 → v2 · 2.0" in body
    assert "Questions: 2 new, 3 changed, 1 removed." in body
    assert "Question q1, reworded?" in body and "Pillar four" in body
    assert "1 question whose choices changed will be flagged" not in body  # a member reads
    assert "The facilitator or a team admin upgrades" in body


def test_a_member_cannot_upgrade_the_facilitator_can(client, cast, v1, answered):
    url = reverse("actions:lens_upgrade", args=[answered.uuid, v1.uuid])
    client.force_login(cast.member)
    assert client.post(url).status_code == 403
    assert list(answered.lenses.filter(name="Test lens")) == [v1]
    client.force_login(cast.admin)
    assert "1 question whose choices changed will be flagged" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("reviews:session_detail", args=[answered.uuid])
    assert "4 answers carried over, 1 to look again, 2 new questions, 1 removed" in (
        response.content.decode()
    )


def test_the_page_says_to_reopen_after_the_review_phase(client, cast, v1, answered):
    ReviewSession.objects.filter(pk=answered.pk).update(phase=Phase.ANALYSIS)
    client.force_login(cast.admin)
    url = reverse("actions:lens_upgrade", args=[answered.uuid, v1.uuid])
    assert "Reopen the review (move it back to review) first." in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "Reopen the review" in response.content.decode()
    assert list(answered.lenses.filter(name="Test lens")) == [v1]


def test_a_lens_the_review_does_not_use_is_404(client, cast, lenses, answered):
    client.force_login(cast.admin)
    saas = lenses["SaaS Lens"]
    url = reverse("actions:lens_upgrade", args=[answered.uuid, saas.uuid])
    assert client.get(url).status_code == 404


def test_the_live_page_shows_the_flag_and_confirming_clears_it(client, cast, v1, answered):
    review_lens_upgrade(session=answered, user=cast.admin, lens=v1)
    q1 = answer_to(answered, "q1")
    question_url = reverse("reviews:question", args=[answered.uuid, q1.question.uuid])
    client.force_login(cast.admin)
    body = client.get(question_url).content.decode()
    assert "Look again: the choices changed" in body and ">Confirm</button>" in body
    confirm = reverse("reviews:answer_confirm", args=[answered.uuid, q1.question.uuid])
    assert client.post(confirm).status_code == 302
    q1.refresh_from_db()
    assert not q1.look_again
    assert q1.changes.filter(action=AnswerChange.Action.CONFIRMED).get().user == cast.admin
    assert "Look again" not in client.get(question_url).content.decode()


def test_only_someone_who_answers_may_confirm(client, cast, v1, answered):
    review_lens_upgrade(session=answered, user=cast.admin, lens=v1)
    q1 = answer_to(answered, "q1")
    confirm = reverse("reviews:answer_confirm", args=[answered.uuid, q1.question.uuid])
    client.force_login(cast.viewer)  # not a participant
    assert client.post(confirm).status_code == 403
    assert (
        ">Confirm</button>"
        not in client.get(
            reverse("reviews:question", args=[answered.uuid, q1.question.uuid])
        ).content.decode()
    )
    q1.refresh_from_db()
    assert q1.look_again
    assert Question.objects.filter(pk=q1.question_id).exists()
