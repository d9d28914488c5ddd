"""The audit log of what changes trust in a team: role changes, joining and leaving,
reopened reviews, imported lenses. `record` writes one entry inside the caller's
transaction, so the entry exists exactly when the change does."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db import transaction

from reviews.models import AuditEntry, Team

Action = AuditEntry.Action
PER_PAGE = 25


def record(*, team: Team | int, actor, action: str, subject: str, **details) -> AuditEntry:
    """One audit entry. `actor` may be None (the system); `details` must be JSON."""
    if action not in Action.values:
        raise ValueError(f"Unknown audit action: {action}")
    team_id = team if isinstance(team, int) else team.pk
    actor = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        return AuditEntry.objects.create(
            team_id=team_id,
            actor=actor,
            actor_name=actor.get_username() if actor else "",
            action=action,
            subject=str(subject)[:300],
            details=details,
        )


def audit_page(*, team: Team, page: str | int | None) -> Page:
    """One page of the team's log, newest first; a page number out of range gives the
    nearest page."""
    entries = AuditEntry.objects.filter(team=team).select_related("actor")
    return Paginator(entries, PER_PAGE).get_page(page)


def lens_imported(*, team: Team | int, actor, lens) -> AuditEntry:
    """The entry for a lens imported into a team's library (called by the upload)."""
    return record(
        team=team,
        actor=actor,
        action=Action.LENS_IMPORTED,
        subject=str(lens),
        lens=str(lens.uuid),
        name=lens.name,
        version=lens.version,
    )
