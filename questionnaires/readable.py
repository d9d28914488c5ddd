"""Risk rules in words, rendered from the parsed condition (never from its raw text):

    No risk when all of “A”, “B” are selected.
    Medium risk when “A” is selected.
    High risk otherwise.

Rules are tried in order and the first that holds gives the risk, so a "default" rule after
others reads "otherwise", and a rule after it is never reached; with no default rule, a last
line says that anything else is high risk, as the engine has it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from questionnaires.models import Risk
from questionnaires.risk import And, ConditionError, Default, Name, Node, Not, Or, parse


@dataclass(frozen=True)
class RuleText:
    risk: str
    text: str
    # The condition as written in the lens file ("" for the engine's implicit last rule).
    condition: str = ""


def _label(risk: str) -> str:
    return Risk(risk).label if risk in Risk.values else risk


def _listed(idents: list[str], titles: Mapping[str, str]) -> str:
    return ", ".join(f"“{titles.get(ident, ident)}”" for ident in idents)


def _all_names(operands: tuple[Node, ...]) -> list[str] | None:
    """The operands' idents when every operand is a plain name, else None."""
    idents = [op.ident for op in operands if isinstance(op, Name)]
    return idents if len(idents) == len(operands) else None


def _names(operands: tuple[Node, ...]) -> tuple[list[str], list[str], list[Node]]:
    """Split operands into chosen names, negated names and the rest."""
    chosen: list[str] = []
    negated: list[str] = []
    rest: list[Node] = []
    for operand in operands:
        if isinstance(operand, Name):
            chosen.append(operand.ident)
        elif isinstance(operand, Not) and isinstance(operand.operand, Name):
            negated.append(operand.operand.ident)
        else:
            rest.append(operand)
    return chosen, negated, rest


def describe(node: Node, titles: Mapping[str, str]) -> str:
    """A condition as a clause: "“A” is selected and none of “B”, “C” is selected"."""
    match node:
        case Default():
            return "always"
        case Name(ident):
            return f"“{titles.get(ident, ident)}” is selected"
        case Not(Name(ident)):
            return f"“{titles.get(ident, ident)}” is not selected"
        case Not(Or(operands)) if (idents := _all_names(operands)) is not None:
            return f"none of {_listed(idents, titles)} is selected"
        case Not(And(operands)) if (idents := _all_names(operands)) is not None:
            return f"not all of {_listed(idents, titles)} are selected"
        case Not(operand):
            return f"not ({describe(operand, titles)})"
        case And(operands):
            chosen, negated, rest = _names(operands)
            parts = []
            if chosen:
                parts.append(
                    describe(Name(chosen[0]), titles)
                    if len(chosen) == 1
                    else f"all of {_listed(chosen, titles)} are selected"
                )
            if negated:
                parts.append(
                    describe(Not(Name(negated[0])), titles)
                    if len(negated) == 1
                    else f"none of {_listed(negated, titles)} is selected"
                )
            parts += [f"({describe(op, titles)})" for op in rest]
            return " and ".join(parts)
        case Or(operands):
            chosen, negated, rest = _names(operands)
            parts = []
            if chosen:
                parts.append(
                    describe(Name(chosen[0]), titles)
                    if len(chosen) == 1
                    else f"any of {_listed(chosen, titles)} is selected"
                )
            if negated:
                parts.append(
                    describe(Not(Name(negated[0])), titles)
                    if len(negated) == 1
                    else f"not all of {_listed(negated, titles)} are selected"
                )
            parts += [f"({describe(op, titles)})" for op in rest]
            return " or ".join(parts)
    raise TypeError(node)  # pragma: no cover


def rules_text(rules: Iterable[tuple[str, str]], titles: Mapping[str, str]) -> list[RuleText]:
    """One sentence per rule, in order, plus the engine's own last rule when no "default"
    rule is there to catch what the others leave."""
    lines = []
    always = False
    for index, (condition, risk) in enumerate(rules):
        try:
            node = parse(condition)
        except ConditionError as exc:
            lines.append(RuleText(risk, f"{_label(risk)}: cannot be read ({exc}).", condition))
            continue
        if isinstance(node, Default):
            text = f"{_label(risk)} {'otherwise' if index else 'in every case'}."
        else:
            text = f"{_label(risk)} when {describe(node, titles)}."
        if always:
            text += " Never reached: an earlier rule always holds."
        always = always or isinstance(node, Default)
        lines.append(RuleText(risk, text, condition))
    if not always:
        when = "otherwise" if lines else "whatever is selected"
        lines.append(RuleText(Risk.HIGH, f"{_label(Risk.HIGH)} {when}."))
    return lines
