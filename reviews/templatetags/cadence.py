"""{% cadence_card workload membership %}: the cadence card of the workload page."""

from django import template
from django.utils import timezone

from reviews.cadence import cadence_for, next_review_due
from reviews.models import Phase, SessionKind

register = template.Library()


@register.inclusion_tag("reviews/workload_cadence.html#card")
def cadence_card(workload, membership) -> dict:
    today = timezone.localdate()
    due_on, kind = next_review_due(workload, after=today)
    follow_up_session = (
        workload.sessions.filter(plan_published_at__isnull=False)
        .exclude(phase=Phase.CLOSED)
        .order_by("-plan_published_at")
        .first()
    )
    upcoming = (
        workload.sessions.filter(phase=Phase.PREPARATION, review_starts_at__gte=timezone.now())
        .order_by("review_starts_at")
        .first()
    )
    return {
        "workload": workload,
        "upcoming": upcoming,
        "membership": membership,
        "cadence": cadence_for(workload),
        "proposed": {"due_on": due_on, "label": SessionKind(kind).label},
        "follow_up_session": follow_up_session,
        "today": today,
    }
