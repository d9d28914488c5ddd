"""Live events in templates: the names come from reviews.eventkinds, never written here.

hx-trigger="{% sse_triggers 'reviews/question.html#choices' question=q.uuid %}, ..."
<div sse-connect="{% sse_connect session.uuid %}" {% sse_script_attrs %}>
"""

from __future__ import annotations

from uuid import UUID

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from reviews import events
from reviews.eventkinds import fragment_sse_names, fragment_swap_names, script_names

register = template.Library()


@register.simple_tag
def sse_triggers(fragment: str, **values: object) -> str:
    """The htmx triggers on which `fragment` ("template#partial") re-fetches itself, such as
    "sse:answer-…, sse:progress"; `values` fill in what the page shows (question=…)."""
    names = fragment_sse_names(fragment, {name: str(value) for name, value in values.items()})
    return ", ".join(f"sse:{name}" for name in names)


@register.simple_tag
def sse_swaps(fragment: str, **values: object) -> str:
    """The SSE event names whose HTML `fragment` swaps in as it is (for sse-swap), such as
    "choices-…"; `values` fill in what the page shows (question=…)."""
    names = fragment_swap_names(fragment, {name: str(value) for name, value in values.items()})
    return ", ".join(names)


@register.simple_tag
def sse_script_attrs() -> SafeString:
    """data-sse-<role>="<event name>" for each event the page's script handles
    (data-sse-follow, data-sse-heartbeat, data-sse-resync), for static/js/live.js to listen
    for, and data-heartbeat-seconds: how often the stream sends a heartbeat."""
    names = format_html_join(
        " ", 'data-sse-{}="{}"', sorted((str(role), name) for role, name in script_names().items())
    )
    return format_html('{} data-heartbeat-seconds="{}"', names, settings.LIVE_HEARTBEAT_SECONDS)


@register.simple_tag
def sse_connect(session_uuid: UUID) -> str:
    """The address of a session's event stream for a page rendered now. It carries where the
    session's events stand (?last=), so that the stream replays what happens between this
    render and its opening; without it (Redis is away) the page refreshes what it shows once
    its stream is live."""
    url = reverse("reviews:session_events", args=[session_uuid])
    position = events.position(session_uuid)
    return url if position is None else f"{url}?last={position}"
