"""Live events in templates: the names come from reviews.eventkinds, never written here.

hx-trigger="{% sse_triggers 'reviews/question.html#choices' question=q.uuid %}, ..."
<div sse-connect="..." {% sse_script_attrs %}>
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from reviews.eventkinds import fragment_sse_names, script_names

register = template.Library()


@register.simple_tag
def sse_triggers(fragment: str, **values: object) -> str:
    """The htmx triggers on which `fragment` ("template#partial") re-fetches itself, such as
    "sse:answer-…, sse:progress"; `values` fill in what the page shows (question=…)."""
    names = fragment_sse_names(fragment, {name: str(value) for name, value in values.items()})
    return ", ".join(f"sse:{name}" for name in names)


@register.simple_tag
def sse_script_attrs() -> SafeString:
    """data-sse-<role>="<event name>" for each event the page's script handles
    (data-sse-follow, data-sse-resync), for static/js/live.js to listen for."""
    return format_html_join(
        " ", 'data-sse-{}="{}"', sorted((str(role), name) for role, name in script_names().items())
    )
