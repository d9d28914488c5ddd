"""Workloads, their review sessions and milestones, and a session's risk counts."""

from uuid import UUID

from django.http import Http404
from ninja import Router
from ninja.pagination import paginate

from actions.api.pagination import CursorPagination
from actions.api.schemas import (
    ERRORS,
    MilestoneDetailOut,
    MilestoneOut,
    RiskCountsOut,
    SessionOut,
    WorkloadOut,
)
from actions.milestones import risk_counts_by_pillar
from config.http import SignedInRequest
from reviews.access import session_for_user, workload_for_user
from reviews.models import Milestone, Workload
from reviews.sessions import risk_counts

router = Router(tags=["workloads"])


@router.get("/workloads", response={200: list[WorkloadOut], **ERRORS})
@paginate(CursorPagination)
def workload_list(request: SignedInRequest):
    """The workloads of your teams."""
    return Workload.objects.for_user(request.user).select_related("team", "owner")


@router.get("/workloads/{workload_uuid}", response={200: WorkloadOut, **ERRORS})
def workload_detail(request: SignedInRequest, workload_uuid: UUID):
    workload, _ = workload_for_user(request.user, workload_uuid)
    return workload


@router.get("/workloads/{workload_uuid}/sessions", response={200: list[SessionOut], **ERRORS})
@paginate(CursorPagination)
def session_list(request: SignedInRequest, workload_uuid: UUID):
    """The workload's review sessions, oldest first."""
    workload, _ = workload_for_user(request.user, workload_uuid)
    return workload.sessions.select_related("workload")


@router.get("/sessions/{session_uuid}", response={200: SessionOut, **ERRORS}, tags=["sessions"])
def session_detail(request: SignedInRequest, session_uuid: UUID):
    return session_for_user(request.user, session_uuid).session


@router.get(
    "/sessions/{session_uuid}/risk-counts",
    response={200: RiskCountsOut, **ERRORS},
    tags=["sessions"],
)
def session_risk_counts(request: SignedInRequest, session_uuid: UUID):
    """How many answers carry each risk level, in all and per pillar."""
    session = session_for_user(request.user, session_uuid).session
    return {
        "session_uuid": session.uuid,
        "total": risk_counts(session),
        "pillars": [
            {"pillar": name, "counts": counts} for name, counts in risk_counts_by_pillar(session)
        ],
    }


@router.get(
    "/workloads/{workload_uuid}/milestones",
    response={200: list[MilestoneOut], **ERRORS},
    tags=["milestones"],
)
@paginate(CursorPagination)
def milestone_list(request: SignedInRequest, workload_uuid: UUID):
    workload, _ = workload_for_user(request.user, workload_uuid)
    return workload.milestones.select_related("workload", "session")


@router.get(
    "/milestones/{milestone_uuid}",
    response={200: MilestoneDetailOut, **ERRORS},
    tags=["milestones"],
)
def milestone_detail(request: SignedInRequest, milestone_uuid: UUID):
    milestone = (
        Milestone.objects.select_related("workload", "session").filter(uuid=milestone_uuid).first()
    )
    if milestone is None:
        raise Http404("No such milestone.")
    workload_for_user(request.user, milestone.workload.uuid)
    return milestone
