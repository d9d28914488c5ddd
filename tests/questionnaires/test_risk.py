"""The risk engine: the condition parser (with property tests) and rule evaluation."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from questionnaires.models import Risk
from questionnaires.risk import (
    MAX_NESTING,
    And,
    ConditionError,
    Default,
    Name,
    Not,
    Or,
    evaluate,
    evaluate_rules,
    names,
    next_selection,
    parse,
    render,
)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a", Name("a")),
        ("default", Default()),
        ("!a", Not(Name("a"))),
        ("a && b", And((Name("a"), Name("b")))),
        ("a || b", Or((Name("a"), Name("b")))),
        ("a && b || c", Or((And((Name("a"), Name("b"))), Name("c")))),
        ("a || b && c", Or((Name("a"), And((Name("b"), Name("c")))))),
        ("(a || b) && c", And((Or((Name("a"), Name("b"))), Name("c")))),
        ("!(a && b)", Not(And((Name("a"), Name("b"))))),
        ("!!a", Not(Not(Name("a")))),
        ("  (  OPS1_1 )&&!OPS1-2.x ", And((Name("OPS1_1"), Not(Name("OPS1-2.x"))))),
    ],
)
def test_parse_builds_the_expected_tree(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty condition at character 1"),
        ("   ", "empty condition"),
        ("a &&", "condition ends too early at character 5"),
        ("a & b", "unexpected '&' at character 3"),
        ("(a || b", "missing ')' at character 8"),
        ("a)", "unexpected ')' at character 2"),
        ("a b", "unexpected 'b' at character 3"),
        ("|| a", "unexpected '||' at character 1"),
        ("a && $b", "unexpected '$' at character 6"),
    ],
)
def test_parse_errors_name_the_character(text, message):
    with pytest.raises(ConditionError) as caught:
        parse(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("opening", "closing"), [("(", ")"), ("!", ""), ("!(", ")"), ("(!", ")")], ids=repr
)
def test_nesting_is_capped_before_the_stack_runs_out(opening, closing):
    levels = MAX_NESTING // len(opening)
    assert names(parse(opening * levels + "a" + closing * levels)) == {"a"}
    for depth in (levels + 1, 1500):
        with pytest.raises(ConditionError, match="nested more than 32 levels deep"):
            parse(opening * depth + "a" + closing * depth)


def test_nesting_counts_depth_not_length():
    wide = " && ".join(["(a || !b)"] * 400)
    assert evaluate(parse(wide), {"a"})


def test_names_lists_every_choice_mentioned():
    assert names(parse("!(a && b) || (c && default)")) == {"a", "b", "c"}


# Rule shapes seen in the framework and in published lenses.
FRAMEWORK_RULES = [("h1 && h2 && m1", "NONE"), ("h1 && h2", "MEDIUM"), ("default", "HIGH")]
NEGATED_RULES = [("a && b", "NONE"), ("!a || !b", "MEDIUM"), ("default", "HIGH")]
ONE_CHOICE_RULES = [("yes", "NONE"), ("no", "HIGH"), ("default", "MEDIUM")]
XOR_RULES = [
    ("x && y", "NONE"),
    ("(!x && y) || (!y && x)", "MEDIUM"),
    ("default", "HIGH"),
]


@pytest.mark.parametrize(
    ("rules", "selected", "risk"),
    [
        (FRAMEWORK_RULES, {"h1", "h2", "m1"}, Risk.NONE),
        (FRAMEWORK_RULES, {"h1", "h2", "m1", "low"}, Risk.NONE),
        (FRAMEWORK_RULES, {"h1", "h2"}, Risk.MEDIUM),
        (FRAMEWORK_RULES, {"h1", "m1"}, Risk.HIGH),
        (FRAMEWORK_RULES, {"q_no"}, Risk.HIGH),
        (NEGATED_RULES, {"a", "b"}, Risk.NONE),
        (NEGATED_RULES, {"a"}, Risk.MEDIUM),
        (ONE_CHOICE_RULES, {"yes"}, Risk.NONE),
        (ONE_CHOICE_RULES, {"no"}, Risk.HIGH),
        (ONE_CHOICE_RULES, {"maybe"}, Risk.MEDIUM),
        (XOR_RULES, {"x", "y"}, Risk.NONE),
        (XOR_RULES, {"x"}, Risk.MEDIUM),
        (XOR_RULES, {"y"}, Risk.MEDIUM),
        (XOR_RULES, {"other"}, Risk.HIGH),
    ],
)
def test_first_matching_rule_gives_the_risk(rules, selected, risk):
    assert evaluate_rules(rules, selected) == risk


def test_first_match_wins_even_when_a_later_rule_also_holds():
    assert evaluate_rules([("a", "MEDIUM"), ("a", "NONE"), ("default", "HIGH")], {"a"}) == "MEDIUM"


def test_no_matching_rule_and_no_default_is_high():
    assert evaluate_rules([("a && b", "NONE")], {"a"}) == Risk.HIGH


def test_nothing_selected_is_unanswered_and_not_applicable_wins():
    assert evaluate_rules(FRAMEWORK_RULES, set()) == Risk.UNANSWERED
    assert evaluate_rules(FRAMEWORK_RULES, {"h1"}, not_applicable=True) == Risk.NOT_APPLICABLE


def test_none_of_these_clears_other_choices_and_vice_versa():
    nones = {"q_no"}
    assert next_selection({"a", "b"}, "q_no", select=True, none_of_these=nones) == {"q_no"}
    assert next_selection({"q_no"}, "a", select=True, none_of_these=nones) == {"a"}
    assert next_selection({"a", "b"}, "c", select=True, none_of_these=nones) == {"a", "b", "c"}
    assert next_selection({"a", "b"}, "a", select=False, none_of_these=nones) == {"b"}
    assert next_selection({"a"}, "zzz", select=False, none_of_these=nones) == {"a"}


# --- Property tests ----------------------------------------------------------------------------

IDENTS = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,8}", fullmatch=True).filter(
    lambda s: s != "default"
)


def depth(node) -> int:
    if isinstance(node, Not):
        return 1 + depth(node.operand)
    if isinstance(node, And | Or):
        return 1 + max(depth(op) for op in node.operands)
    return 0


def conditions(leaves=IDENTS):
    # Each level of the tree nests at most one level in text ("!" or parentheses).
    return st.recursive(
        st.one_of(leaves.map(Name), st.just(Default())),
        lambda children: st.one_of(
            children.map(Not),
            st.lists(children, min_size=2, max_size=4).map(lambda ops: And(tuple(ops))),
            st.lists(children, min_size=2, max_size=4).map(lambda ops: Or(tuple(ops))),
        ),
        max_leaves=12,
    ).filter(lambda tree: depth(tree) <= MAX_NESTING)


def reference(node, selected) -> bool:
    """An independent evaluator to check the engine against."""
    if isinstance(node, Name):
        return node.ident in selected
    if isinstance(node, Default):
        return True
    if isinstance(node, Not):
        return not reference(node.operand, selected)
    results = [reference(op, selected) for op in node.operands]
    return all(results) if isinstance(node, And) else any(results)


@given(conditions())
def test_render_then_parse_is_the_same_tree(tree):
    assert parse(render(tree)) == tree


@given(conditions(), st.sets(IDENTS, max_size=6))
def test_evaluation_matches_the_reference_semantics(tree, selected):
    assert evaluate(parse(render(tree)), selected) == reference(tree, selected)


@given(conditions(), st.sets(IDENTS, max_size=6))
def test_spacing_does_not_change_meaning(tree, selected):
    text = render(tree)
    spaced = (
        text.replace("&&", " &&  ").replace("||", "  || ").replace("(", "( ").replace(")", " )")
    )
    assert evaluate(parse(spaced), selected) == evaluate(parse(text), selected)


@given(st.text(alphabet="ab_!()&| \t$", max_size=30))
def test_any_text_parses_or_raises_condition_error(text):
    try:
        tree = parse(text)
    except ConditionError:
        return
    assert isinstance(tree, Name | Default | Not | And | Or)


@given(
    st.lists(st.sampled_from(["(", ")", "!", "a", " && ", " || ", "default"]), max_size=3000).map(
        "".join
    )
)
def test_any_long_or_deep_text_parses_or_raises_condition_error(text):
    try:
        tree = parse(text)
    except ConditionError:
        return
    assert isinstance(tree, Name | Default | Not | And | Or)


@given(conditions(), st.sets(IDENTS, max_size=6))
def test_double_negation_is_identity(tree, selected):
    assert evaluate(Not(Not(tree)), selected) == evaluate(tree, selected)
