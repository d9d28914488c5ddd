from django import template

from questionnaires.models import Question
from questionnaires.readable import RuleText, rules_text

register = template.Library()


@register.filter
def rule_sentences(question: Question) -> list[RuleText]:
    """A question's risk rules in words (choices and rules prefetched)."""
    titles = {choice.ident: choice.title for choice in question.choices.all()}
    return rules_text(((r.condition, r.risk) for r in question.risk_rules.all()), titles)
