"""The difference between two versions of a lens (as AWS's GetLensVersionDifference), and the
per-question changes a review moving to the newer version needs."""

import copy

from questionnaires.differences import (
    ChoiceDifference,
    LensDifference,
    PillarDifference,
    QuestionChange,
    QuestionDifference,
    Status,
    compare_lenses,
    lens_difference,
    lens_question_changes,
)
from questionnaires.lensfile import read_lens_file
from questionnaires.services import lens_import
from tests.questionnaires.test_lensfile import choice, lens, question, raw


def version_one() -> dict:
    document = lens(_version="1.0")
    document["pillars"][1]["questions"].append(question("q7", ("m", "n")))
    document["pillars"].append({"id": "p3", "name": "Pillar three", "questions": [question("q4")]})
    return document


def version_two() -> dict:
    document = copy.deepcopy(version_one())
    document["_version"] = "2.0"
    p1, p2, p3 = document["pillars"]
    p1["name"] = "Pillar one, reworded"
    q1, q2 = p1["questions"]
    q1["title"] = "Question q1, reworded?"
    q1["choices"] = [choice("a", "Practice a, reworded"), choice("c")]  # b removed, c new
    q1["riskRules"] = [
        {"condition": "a && c", "risk": "NO_RISK"},
        {"condition": "default", "risk": "HIGH_RISK"},
    ]
    p1["questions"] = [q1, question("q5")]  # q2 removed, q5 new
    q3, q7 = p2["questions"]
    q3["choices"][0]["improvementPlan"]["displayText"] = "Do it differently."
    q7["riskRules"][0]["condition"] = "m&&n"  # only spacing: no change
    p2["questions"] = [q3, q7, p3["questions"][0]]  # q4 moves here from p3
    document["pillars"] = [
        p1,
        p2,
        {"id": "p4", "name": "Pillar four", "questions": [question("q6")]},
    ]
    return document


def test_the_difference_lists_new_changed_and_removed_pillars_questions_and_choices():
    difference = compare_lenses(
        read_lens_file(raw(version_one())), read_lens_file(raw(version_two()))
    )
    assert difference == LensDifference(
        changes=("version label",),
        pillars=(
            PillarDifference(
                "p1",
                "Pillar one, reworded",
                Status.CHANGED,
                ("name", "questions"),
                (
                    QuestionDifference(
                        "q1",
                        "Question q1, reworded?",
                        Status.CHANGED,
                        ("title", "risk rules", "choices"),
                        (
                            ChoiceDifference(
                                "a", "Practice a, reworded", Status.CHANGED, ("title",)
                            ),
                            ChoiceDifference("c", "Practice c", Status.NEW),
                            ChoiceDifference("b", "Practice b", Status.REMOVED),
                        ),
                    ),
                    QuestionDifference("q5", "Question q5?", Status.NEW),
                    QuestionDifference("q2", "Question q2?", Status.REMOVED),
                ),
            ),
            PillarDifference(
                "p2",
                "Pillar two",
                Status.CHANGED,
                ("questions",),
                (
                    QuestionDifference(
                        "q3",
                        "Question q3?",
                        Status.CHANGED,
                        ("choices",),
                        (
                            ChoiceDifference(
                                "x", "Practice x", Status.CHANGED, ("improvement plan",)
                            ),
                        ),
                    ),
                    QuestionDifference(
                        "q4", "Question q4?", Status.CHANGED, ("moved from Pillar three",)
                    ),
                ),
            ),
            PillarDifference(
                "p4",
                "Pillar four",
                Status.NEW,
                (),
                (QuestionDifference("q6", "Question q6?", Status.NEW),),
            ),
            PillarDifference("p3", "Pillar three", Status.REMOVED, (), ()),
        ),
    )
    assert difference.summary == {"new": 2, "changed": 3, "removed": 1}


def test_identical_versions_have_no_difference():
    one = read_lens_file(raw(version_one()))
    assert compare_lenses(one, one).is_empty
    reordered = version_one()
    reordered["pillars"][0]["questions"].reverse()
    difference = compare_lenses(one, read_lens_file(raw(reordered)))
    assert [(p.ident, p.changes, p.questions) for p in difference.pillars] == [
        ("p1", ("question order",), ())
    ]


def test_question_changes_flag_the_questions_whose_choices_changed(db):
    v1 = lens_import(raw=raw(version_one()), library="team-a").lens
    v2 = lens_import(raw=raw(version_two()), library="team-a").lens
    assert v2.version == 2
    changes = lens_question_changes(base=v1, target=v2)
    assert changes == {
        "q1": QuestionChange("q1", Status.CHANGED, True, ("title", "risk rules", "choices")),
        "q5": QuestionChange("q5", Status.NEW),
        "q3": QuestionChange("q3", Status.CHANGED, False, ("choices",)),
        "q7": QuestionChange("q7", Status.UNCHANGED),
        "q4": QuestionChange("q4", Status.CHANGED, False, ("moved from Pillar three",)),
        "q6": QuestionChange("q6", Status.NEW),
        "q2": QuestionChange("q2", Status.REMOVED),
    }
    assert [ident for ident, change in changes.items() if change.choices_changed] == ["q1"]
    assert lens_difference(base=v1, target=v2).summary == {"new": 2, "changed": 3, "removed": 1}


def test_a_reworded_choice_description_asks_for_another_look_but_new_guidance_does_not():
    one = read_lens_file(raw(version_one()))
    reworded = version_one()
    reworded["pillars"][0]["questions"][0]["choices"][0]["description"] = "Now it means more."
    reworded["pillars"][0]["questions"][1]["choices"][0]["helpfulResource"]["url"] = (
        "https://example.com/new"
    )
    questions = {q.ident: q for q in compare_lenses(one, read_lens_file(raw(reworded))).questions}
    assert questions["q1"].choices_changed and not questions["q2"].choices_changed
    assert questions["q2"].choices[0].changes == ("helpful resource",)
