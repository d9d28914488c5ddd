"""Upgrading a review to a newer version of one of its lenses: the difference, then the
upgrade (facilitator or team admin; preparation and review only)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from actions import lensupgrade
from config.http import SignedInRequest
from reviews.access import session_for_user
from reviews.errors import ServiceError
from reviews.lenslibrary import newer_version


@require_http_methods(["GET", "POST"])
def lens_upgrade(request: SignedInRequest, session_uuid: UUID, lens_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid)
    session = access.session
    session_lens = session.session_lenses.select_related("lens").filter(lens__uuid=lens_uuid)
    base = next((sl.lens for sl in session_lens), None)
    if base is None:
        raise Http404("This review does not use that lens.")
    if request.method == "POST" and not access.can_manage:
        raise PermissionDenied("Only the facilitator or a team admin upgrades a lens.")
    target = newer_version(base)
    if target is None:
        messages.info(request, f"{base} is the newest version of its lens.")
        return redirect("reviews:session_detail", session.uuid)
    refusal = lensupgrade.upgrade_refusal(session)
    if request.method == "POST":
        try:
            done = lensupgrade.review_lens_upgrade(session=session, user=request.user, lens=base)
        except ServiceError as exc:
            messages.error(request, str(exc))
            return redirect("actions:lens_upgrade", session.uuid, base.uuid)
        messages.success(
            request,
            f"Upgraded to {done.target}: {len(done.carried)} answers carried over, "
            f"{len(done.flagged)} to look again, {len(done.added)} new questions, "
            f"{len(done.removed)} removed. Milestone “{done.milestone.name}” holds the "
            "review as it was.",
        )
        return redirect("reviews:session_detail", session.uuid)
    changes = lensupgrade.upgrade_difference(base, target)
    flagged = [q for q in changes.questions if q.status == "changed" and q.choices_changed]
    return render(
        request,
        "actions/lens_upgrade.html",
        {
            "session": session,
            "base": base,
            "target": target,
            "changes": changes,
            "flagged": flagged,
            "refusal": refusal,
            "can_manage": access.can_manage,
        },
    )
