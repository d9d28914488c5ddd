"""Due dates in words, for pages and emails."""

from __future__ import annotations

from datetime import date

from django import template

from actions.models import ActionItem

register = template.Library()


@register.filter
def days_overdue(action: ActionItem, today: date) -> int:
    """How many days past its due date the action is on `today` (0 when it is not)."""
    if action.due_on is None or today is None:
        return 0
    return max((today - action.due_on).days, 0)
