"""{{ user|person }}: how a person is named on a page (full name, else username)."""

from django import template

register = template.Library()


@register.filter
def person(user, empty: str = "—") -> str:
    if user is None:
        return empty
    return user.get_full_name() or user.username
