"""The audit log: what changes trust in a team is recorded in the same transaction as the
change, and only the team's admins read it, on the team page, newest first, a page at a
time."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from questionnaires.models import Lens
from reviews import audit, teams
from reviews.errors import ServiceError
from reviews.models import AuditEntry, Membership


def test_a_role_change_is_recorded_with_before_and_after(client, cast):
    viewer = Membership.objects.get(team=cast.team, user=cast.viewer)
    client.force_login(cast.admin)
    client.post(
        reverse("reviews:member_role", args=[cast.team.uuid, viewer.pk]), {"role": "finance"}
    )
    entry = AuditEntry.objects.get(team=cast.team)
    assert (entry.action, entry.subject, entry.actor) == ("role_changed", "vic", cast.admin)
    assert entry.details == {"before": "viewer", "after": "finance"}


def test_setting_the_same_role_records_nothing(cast):
    viewer = Membership.objects.get(team=cast.team, user=cast.viewer)
    teams.membership_change_role(membership=viewer, role="viewer", actor=cast.admin)
    assert not AuditEntry.objects.exists()


def test_a_refused_change_records_nothing(cast):
    me = Membership.objects.get(team=cast.team, user=cast.admin)
    with pytest.raises(ServiceError):
        teams.membership_remove(membership=me, actor=cast.admin)
    with pytest.raises(ServiceError):
        teams.membership_change_role(membership=me, role="member", actor=cast.admin)
    assert not AuditEntry.objects.exists()


def test_the_entry_is_written_with_the_change_or_not_at_all(cast):
    viewer = Membership.objects.get(team=cast.team, user=cast.viewer)
    with pytest.raises(RuntimeError), transaction.atomic():
        teams.membership_change_role(membership=viewer, role="member", actor=cast.admin)
        raise RuntimeError("the request failed later")
    viewer.refresh_from_db()
    assert viewer.role == "viewer" and not AuditEntry.objects.exists()


def test_creating_a_team_records_its_first_admin(cast):
    team = teams.team_create(name="Delta", user=cast.member)
    entry = AuditEntry.objects.get(team=team)
    assert entry.action == "joined" and entry.details["role"] == "admin"


def test_removal_is_recorded(cast):
    teams.membership_remove(
        membership=Membership.objects.get(team=cast.team, user=cast.finance), actor=cast.admin
    )
    entry = AuditEntry.objects.get(team=cast.team)
    assert (entry.action, entry.subject) == ("removed", "fay")
    assert entry.details["role"] == "finance" and entry.details["left_by_themselves"] is False


def test_record_for_a_reopened_review_and_an_imported_lens(cast, lenses):
    audit.record(
        team=cast.team,
        actor=cast.admin,
        action=audit.Action.SESSION_REOPENED,
        subject="Checkout review",
        reason="We missed the DR question",
    )
    lens = Lens.objects.filter(is_builtin=True).first()
    audit.lens_imported(team=cast.team, actor=cast.member, lens=lens)
    reopened, imported = AuditEntry.objects.order_by("pk")
    assert reopened.details == {"reason": "We missed the DR question"}
    assert imported.action == "lens_imported" and imported.details["lens"] == str(lens.uuid)
    assert imported.actor_name == "bob"


def test_an_unknown_action_is_refused(cast):
    with pytest.raises(ValueError):
        audit.record(team=cast.team, actor=None, action="whatever", subject="x")


def test_admins_see_the_log_on_the_team_page_newest_first(client, cast):
    for n in range(3):
        audit.record(team=cast.team, actor=cast.admin, action="invited", subject=f"p{n}@x.org")
    audit.record(team=cast.other_team, actor=cast.outsider, action="invited", subject="secret")
    client.force_login(cast.admin)
    body = client.get(reverse("reviews:team_detail", args=[cast.team.uuid])).content.decode()
    assert "Audit log" in body and "secret" not in body
    assert body.index("p2@x.org") < body.index("p1@x.org") < body.index("p0@x.org")


def test_the_log_is_paged(client, cast, django_assert_max_num_queries):
    for n in range(audit.PER_PAGE + 5):
        audit.record(team=cast.team, actor=cast.admin, action="invited", subject=f"n{n:03d}")
    url = reverse("reviews:team_detail", args=[cast.team.uuid])
    client.force_login(cast.admin)
    with django_assert_max_num_queries(14):
        first = client.get(url).content.decode()
    assert "n029" in first and "n004" not in first and "Page 1 of 2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "n004" in second and "n029" not in second
    assert client.get(url, {"page": "nonsense"}).status_code == 200


@pytest.mark.parametrize("who", ["member", "finance", "viewer"])
def test_other_members_do_not_see_the_log(client, cast, who):
    audit.record(team=cast.team, actor=cast.admin, action="invited", subject="hidden@x.org")
    client.force_login(getattr(cast, who))
    body = client.get(reverse("reviews:team_detail", args=[cast.team.uuid])).content.decode()
    assert "Audit log" not in body and "hidden@x.org" not in body


def test_outsiders_get_404(client, cast):
    client.force_login(cast.outsider)
    assert client.get(reverse("reviews:team_detail", args=[cast.team.uuid])).status_code == 404
