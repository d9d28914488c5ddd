"""Teams and their members: creating a team, changing and removing members; a team always
keeps an admin."""

from __future__ import annotations

from django.db import transaction

from reviews.errors import ServiceError
from reviews.models import (
    Membership,
    Team,
)


@transaction.atomic
def team_create(*, name: str, user) -> Team:
    team = Team.objects.create(name=name)
    Membership.objects.create(team=team, user=user, role=Membership.Role.ADMIN)
    return team


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str) -> Membership:
    if membership.role == Membership.Role.ADMIN and role != Membership.Role.ADMIN:
        _keep_an_admin(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    if membership.role == Membership.Role.ADMIN:
        _keep_an_admin(membership)
    membership.delete()


def _keep_an_admin(membership: Membership) -> None:
    admins = Membership.objects.select_for_update().filter(
        team_id=membership.team_id, role=Membership.Role.ADMIN
    )
    if not admins.exclude(pk=membership.pk).exists():
        raise ServiceError("A team needs at least one admin: make someone else admin first.")
