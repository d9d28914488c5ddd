"""The analysis page live: what a change to a finding looks like, rendered once and sent with
its event (reviews.live_fragments renders the live review page's changes the same way).

A rating, a placement, an acceptance, its revocation or a new action from a finding
changes three parts of every analysis page of the session: the finding's card, the matrix and
the quadrant counts. Each is rendered here once per change, after it commits:

- the card once per variant of what a seat may do there (actions.findings.seat_rights); the
  workload's owner may accept risks whatever their seat, so when someone else holds the
  owner's seat, neither gets HTML for it and each page re-fetches the card instead;
- the matrix twice at most: movable (for whoever places findings) or not;
- the quadrant counts once, the same for everyone.

The person's own ratings ("Your rating") are not in the HTML that everyone gets: each page
keeps what its person chose (static/js/analysis.js), and renders it itself on a reload."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string

from actions import charts, findings
from actions.forms import SCALE
from actions.models import Rating
from reviews.eventkinds import EventData, Swap
from reviews.live_fragments import for_everyone, seat_access, viewer_key
from reviews.models import Membership, Participant, ReviewSession

PAGE = "actions/analysis.html"


class Viewers:
    """Every viewer key that may watch the session (each team role not taking part, and the
    seats taken), and the workload owner's key, and whether that seat is theirs alone. Two
    queries."""

    def __init__(self, session: ReviewSession) -> None:
        team = session.workload.team_id
        team_role = Membership.objects.filter(team_id=team, user_id=OuterRef("user_id")).values(
            "role"
        )[:1]
        seats = [
            (user, viewer_key(t, s))
            for user, t, s in Participant.objects.filter(session=session)
            .annotate(team_role=Subquery(team_role))
            .values_list("user_id", "team_role", "role")
        ]
        self.keys = sorted(
            {viewer_key(role, None) for role in Membership.Role.values} | {k for _, k in seats}
        )
        owner = session.workload.owner_id
        owner_seat = [key for user, key in seats if user == owner]
        self.owner_key: str | None = None
        self.owner_alone = False
        if owner_seat:
            self.owner_key = owner_seat[0]
            self.owner_alone = sum(1 for _, key in seats if key == self.owner_key) == 1
        elif owner is not None:
            # Not taking part: they read as their team role, which others may share.
            role = Membership.objects.filter(team_id=team, user_id=owner).values_list(
                "role", flat=True
            )
            owner_role = role.first()
            self.owner_key = viewer_key(owner_role, None) if owner_role else None


def _card(session: ReviewSession, info: findings.FindingInfo, viewers: Viewers) -> Swap:
    html: list[str] = []
    index: dict[findings.AnalysisRights, int] = {}
    pick: dict[str, int] = {}
    for viewer in viewers.keys:
        access = seat_access(session, viewer)
        rights = findings.seat_rights(access, owns_workload=False)
        if viewer == viewers.owner_key:
            owner_rights = findings.seat_rights(access, owns_workload=True)
            if viewers.owner_alone:
                rights = owner_rights
            elif owner_rights != rights:
                continue  # the owner and others differ in this seat: each re-fetches
        if rights not in index:
            ctx = {
                "session": session,
                "workload": session.workload,
                "info": info,
                "rights": rights,
                "preview": False,
                "scale": SCALE,
                "rating_kinds": Rating.Kind.choices,
                # Sent to everybody: no form carries a token (htmx sends each person's own
                # in a header), and nobody's own rating is selected.
                "shared": True,
            }
            index[rights] = len(html)
            html.append(render_to_string(f"{PAGE}#finding", ctx).strip())
        pick[viewer] = index[rights]
    return Swap(html=tuple(html), pick=pick)


def _matrix(session: ReviewSession, infos: list[findings.FindingInfo], viewers: Viewers) -> Swap:
    points = findings.matrix_points(infos)
    html: list[str] = []
    pick: dict[str, int] = {}
    by_move: dict[bool, int] = {}
    for viewer in viewers.keys:
        rights = findings.seat_rights(seat_access(session, viewer), owns_workload=False)
        if rights.can_move not in by_move:
            svg = charts.matrix_svg(points, interactive=rights.can_move, width=640)
            ctx = {"session": session, "matrix_svg": svg, "rights": rights}
            by_move[rights.can_move] = len(html)
            html.append(render_to_string(f"{PAGE}#matrix", ctx).strip())
        pick[viewer] = by_move[rights.can_move]
    return Swap(html=tuple(html), pick=pick)


def render_finding(channel: str, data: EventData) -> dict[str, Swap]:
    """The HTML a finding's event carries: its card, the matrix and the quadrant counts."""
    finding_uuid = data.as_dict()["finding"]
    session = ReviewSession.objects.select_related("workload").get(uuid=channel)
    if session.phase in findings.BEFORE_ANALYSIS:
        return {}
    infos = findings.analysis_findings(session)
    viewers = Viewers(session)
    swaps = {
        "matrix-html": _matrix(session, infos, viewers),
        "quadrants-html": for_everyone(
            render_to_string(
                f"{PAGE}#summary",
                {"session": session, "quadrants": findings.quadrant_counts(infos)},
            )
        ),
    }
    info = next((i for i in infos if str(i.finding.uuid) == finding_uuid), None)
    if info is not None:
        swaps[f"finding-card-{finding_uuid}"] = _card(session, info, viewers)
    return swaps
