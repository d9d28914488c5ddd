"""A lens library per team. The built-in lenses are global and read-only; a lens uploaded by
a team is in that team's library (named by the team's uuid) and is seen by its members only.
Lenses uploaded before there were team libraries, whose team could not be told, stay in the
legacy shared library: everyone still sees them, nobody adds versions to them.

Who may import: a team's admins and members (the roles that edit workloads); finance and
viewers read."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from questionnaires.models import SHARED_LIBRARY, Lens, LensQuerySet
from reviews.access import editable_teams, team_for_user
from reviews.models import Team


class ImportTeamMissing(ValueError):
    """The user imports for several teams and did not say which."""


def team_library(team: Team) -> str:
    """The library key of a team's lenses."""
    return str(team.uuid)


def library_names(user) -> dict[str, str]:
    """The libraries of the user's teams: library key -> the team's name."""
    teams = Team.objects.filter(memberships__user=user).values_list("uuid", "name")
    return {str(uuid): name for uuid, name in teams}


def lenses_for_user(user, names: dict[str, str] | None = None) -> LensQuerySet:
    """The lenses a user sees: the built-in ones, their teams' and the legacy shared ones.
    `names` is library_names(user) when the caller has it already."""
    names = library_names(user) if names is None else names
    return Lens.objects.visible_in([*names, SHARED_LIBRARY])


def lenses_for_team(team: Team) -> LensQuerySet:
    """What a team's new reviews may use: the built-in lenses and the team's own."""
    return Lens.objects.visible_in([team_library(team)])


def lens_for_user(
    user, lens_uuid: UUID, *, names: dict[str, str] | None = None, lenses=None
) -> Lens:
    """A lens the user may see; another team's lens is a 404, as if it did not exist.
    `lenses` narrows or prefetches the query (a Lens queryset)."""
    names = library_names(user) if names is None else names
    base = Lens.objects.all() if lenses is None else lenses
    lens = base.visible_in([*names, SHARED_LIBRARY]).filter(uuid=lens_uuid).first()
    if lens is None:
        raise Http404("No such lens.")
    return lens


def import_teams(user):
    """The teams whose library the user may import into."""
    return editable_teams(user).order_by("name")


def import_team_for_user(user, team_uuid: UUID | None) -> Team:
    """The team an upload goes to: the one named (404 when not the user's, 403 when their
    role there cannot import), or, when none is named, the only team they import for."""
    if team_uuid is not None:
        team, membership = team_for_user(user, team_uuid)
        if not membership.can_edit:
            raise PermissionDenied("Your role in this team cannot import lenses.")
        return team
    teams = list(import_teams(user)[:2])
    if not teams:
        raise PermissionDenied("You cannot import lenses: no team of yours lets you.")
    if len(teams) > 1:
        raise ImportTeamMissing("Choose the team whose library gets the lens.")
    return teams[0]


def newer_versions(lenses: list[Lens]) -> dict[int, Lens]:
    """For each lens with a newer version (same library and name): lens pk -> the newest.
    One query."""
    if not lenses:
        return {}
    query = Q()
    for lens in lenses:
        query |= Q(library=lens.library, name=lens.name, version__gt=lens.version)
    newest: dict[tuple[str, str], Lens] = {}
    for row in Lens.objects.filter(query).order_by("version"):
        newest[(row.library, row.name)] = row
    return {
        lens.pk: newest[(lens.library, lens.name)]
        for lens in lenses
        if (lens.library, lens.name) in newest
    }


def newer_version(lens: Lens) -> Lens | None:
    """The newest version of the lens, when newer than `lens`."""
    return newer_versions([lens]).get(lens.pk)
