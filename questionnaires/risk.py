"""The risk engine: the risk levels, a small recursive-descent parser for risk-rule
conditions, and rule evaluation. Conditions are never passed to eval.

Grammar (whitespace is free between tokens):

    condition := or
    or        := and ( "||" and )*
    and       := unary ( "&&" unary )*
    unary     := "!" unary | primary
    primary   := "(" or ")" | "default" | CHOICE_ID

A question's rules are tried in order and the first whose condition holds gives the risk.
"default" always holds. If no rule holds, the risk is HIGH.

Parentheses and "!" nest at most MAX_NESTING deep: the parser and the functions that walk a
condition are recursive, so a deeper condition is refused with a ConditionError instead of
exhausting the stack.

Not applicable, per question and per best practice (the AWS Well-Architected Tool records
both, each with a reason):
- A question marked not applicable has the risk NOT_APPLICABLE, whatever is selected.
- A best practice (choice) marked not applicable counts as in place: conditions see it as
  selected. AWS reports as "contributing to risk" only the best practices that are missing
  (QuestionMetric.BestPractices), and a practice that does not apply to the workload cannot be
  missing; so marking one never makes a question riskier, and a question whose high-risk
  practices are all in place or not applicable is not high risk. "None of these" is not a best
  practice and cannot be marked not applicable.
- A question is answered once any choice is selected or any best practice is marked not
  applicable (either is a decision recorded about it); only then are the rules evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.db import models


class Risk(models.TextChoices):
    """Risk of one answered question. The order is the display order. `label` names a risk
    on its own ("High risk"); `short_label` where the word risk goes without saying (chart
    legends, column headings: "High")."""

    HIGH = "HIGH", "High risk"
    MEDIUM = "MEDIUM", "Medium risk"
    NONE = "NONE", "No risk"
    NOT_APPLICABLE = "NOT_APPLICABLE", "Not applicable"
    UNANSWERED = "UNANSWERED", "Unanswered"

    @property
    def short_label(self) -> str:
        return SHORT_LABELS.get(self, self.label)


SHORT_LABELS = {Risk.HIGH: "High", Risk.MEDIUM: "Medium"}


IDENT_RE = re.compile(r"[A-Za-z0-9_.\-]+")
DEFAULT = "default"
MAX_NESTING = 32


class ConditionError(ValueError):
    def __init__(self, message: str, position: int):
        super().__init__(f"{message} at character {position + 1}")
        self.position = position


@dataclass(frozen=True)
class Name:
    ident: str


@dataclass(frozen=True)
class Default:
    pass


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Name | Default | Not | And | Or


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith("&&", i) or text.startswith("||", i):
            tokens.append((text[i : i + 2], text[i : i + 2], i))
            i += 2
        elif ch in "()!":
            tokens.append((ch, ch, i))
            i += 1
        else:
            match = IDENT_RE.match(text, i)
            if not match:
                raise ConditionError(f"unexpected {ch!r}", i)
            kind = "default" if match.group() == DEFAULT else "id"
            tokens.append((kind, match.group(), i))
            i = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def position(self) -> int:
        return self.tokens[self.pos][2] if self.pos < len(self.tokens) else len(self.text)

    def take(self) -> tuple[str, str, int]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise ConditionError("empty condition", 0)
        node = self.parse_or()
        if self.pos != len(self.tokens):
            raise ConditionError(f"unexpected {self.tokens[self.pos][1]!r}", self.position())
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.peek() == "||":
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_unary()]
        while self.peek() == "&&":
            self.take()
            operands.append(self.parse_unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ConditionError(
                f"nested more than {MAX_NESTING} levels deep (parentheses and '!')",
                self.position(),
            )

    def parse_unary(self) -> Node:
        if self.peek() == "!":
            self.nest()
            self.take()
            node = Not(self.parse_unary())
            self.depth -= 1
            return node
        return self.parse_primary()

    def parse_primary(self) -> Node:
        kind = self.peek()
        if kind is None:
            raise ConditionError("condition ends too early", self.position())
        if kind == "(":
            self.nest()
            self.take()
            node = self.parse_or()
            if self.peek() != ")":
                raise ConditionError("missing ')'", self.position())
            self.take()
            self.depth -= 1
            return node
        if kind == "id":
            return Name(self.take()[1])
        if kind == "default":
            self.take()
            return Default()
        raise ConditionError(f"unexpected {self.tokens[self.pos][1]!r}", self.position())


@lru_cache(maxsize=4096)
def parse(condition: str) -> Node:
    """Parse a condition; raises ConditionError naming the character where it fails."""
    return _Parser(condition).parse()


def evaluate(node: Node, selected: frozenset[str] | set[str]) -> bool:
    match node:
        case Name(ident):
            return ident in selected
        case Default():
            return True
        case Not(operand):
            return not evaluate(operand, selected)
        case And(operands):
            return all(evaluate(op, selected) for op in operands)
        case Or(operands):
            return any(evaluate(op, selected) for op in operands)
    raise TypeError(node)  # pragma: no cover


def names(node: Node) -> set[str]:
    """The choice ids a condition mentions."""
    match node:
        case Name(ident):
            return {ident}
        case Not(operand):
            return names(operand)
        case And(operands) | Or(operands):
            return set().union(*(names(op) for op in operands))
    return set()


def render(node: Node) -> str:
    """Back to text, parenthesised where needed; parse(render(n)) == n."""
    match node:
        case Name(ident):
            return ident
        case Default():
            return DEFAULT
        case Not(operand):
            inner = render(operand)
            return f"!{inner}" if isinstance(operand, Name | Not | Default) else f"!({inner})"
        case And(operands):
            return " && ".join(
                f"({render(op)})" if isinstance(op, Or | And) else render(op) for op in operands
            )
        case Or(operands):
            return " || ".join(
                f"({render(op)})" if isinstance(op, Or) else render(op) for op in operands
            )
    raise TypeError(node)  # pragma: no cover


def evaluate_rules(
    rules: Iterable[tuple[str, str]],
    selected: Iterable[str],
    *,
    not_applicable: bool = False,
    not_applicable_choices: Iterable[str] = (),
) -> str:
    """The risk of a question: NOT_APPLICABLE when the question does not apply, UNANSWERED
    when nothing is selected or marked not applicable, otherwise the risk of the first rule
    that holds with the not-applicable best practices counted as in place, HIGH when none
    does (see the module's docstring)."""
    if not_applicable:
        return Risk.NOT_APPLICABLE
    chosen = frozenset(selected) | frozenset(not_applicable_choices)
    if not chosen:
        return Risk.UNANSWERED
    for condition, risk in rules:
        if evaluate(parse(condition), chosen):
            return risk
    return Risk.HIGH


def next_selection(
    current: Iterable[str], ident: str, *, select: bool, none_of_these: Iterable[str]
) -> set[str]:
    """The selection after selecting or unselecting one choice. Selecting "None of these"
    clears the other choices; selecting any other choice clears "None of these"."""
    chosen = set(current)
    nones = set(none_of_these)
    if not select:
        chosen.discard(ident)
    elif ident in nones:
        chosen = {ident}
    else:
        chosen -= nones
        chosen.add(ident)
    return chosen
