"""The action plan's answers show the best practices that do not apply, with why."""

from actions import pdf
from reviews import answers, choices
from tests.actions.pdf_helpers import pdf_text
from tests.reviews.test_answers import HIGH, MEDIUM


def test_the_answers_list_not_applicable_best_practices_with_reason_and_notes(cast, review):
    answer = review.answers.get(question__ident="priorities")
    for ident in HIGH:
        answers.answer_toggle(answer=answer, user=cast.admin, choice_ident=ident, select=True)
    choices.choice_mark_not_applicable(
        answer=answer,
        user=cast.admin,
        choice_ident=MEDIUM[0],
        reason="architecture_constraints",
        notes="No external threat surface",
    )
    choices.choice_mark_not_applicable(
        answer=answer, user=cast.admin, choice_ident=MEDIUM[1], reason="other"
    )

    html = pdf.plan_html(review)
    assert "Not applicable:" in html
    text = " ".join(pdf_text(pdf.render_pdf(html).content).split())
    assert "Not applicable:" in text
    assert "(architecture constraints: No external threat surface)" in text
    assert "(other)" in text
    # Both practices that do not apply count as in place: the question carries no risk.
    answer.refresh_from_db()
    assert answer.risk == "NONE"


def test_no_line_when_every_practice_applies(cast, review):
    answer = review.answers.get(question__ident="priorities")
    answers.answer_toggle(answer=answer, user=cast.admin, choice_ident=HIGH[0], select=True)
    assert "Not applicable:" not in pdf.plan_html(review)


def test_a_practice_that_does_not_apply_is_not_a_missing_practice(cast, review):
    from actions.findings import missing_practices

    answer = review.answers.get(question__ident="priorities")
    answers.answer_toggle(answer=answer, user=cast.admin, choice_ident=HIGH[0], select=True)
    choices.choice_mark_not_applicable(
        answer=answer, user=cast.admin, choice_ident=HIGH[1], reason="out_of_scope"
    )
    missing = {c.ident for c in missing_practices(review, [answer.question_id])[answer.question_id]}
    assert missing == {HIGH[2], HIGH[3], *MEDIUM}
