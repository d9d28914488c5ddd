"""export_workload and import_workload: the same document and the same rules as the
browser, asked of the access module like every other way in."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from actions.transfer.export import workload_export
from reviews.models import Workload
from tests.actions.test_transfer import empty_instance, normalised
from tests.actions.transfer_helpers import full_workload

pytestmark = pytest.mark.django_db


def test_export_then_import_by_command_round_trips(cast, lenses, tmp_path, capsys):
    full_workload(cast)
    before = workload_export(cast.workload)
    path = tmp_path / "checkout.json"
    call_command("export_workload", str(cast.workload.uuid), "--user", "bob", "-o", str(path))
    empty_instance()

    call_command(
        "import_workload", str(path), "--team", str(cast.team.uuid), "--user", "alice@example.com"
    )

    out = capsys.readouterr().out
    assert "Imported “Checkout”" in out and "1 reviews" in out and "2 actions" in out
    assert "Invited (not sent yet): newcomer@example.com (Checkout review)" in out
    after = workload_export(Workload.objects.get(team=cast.team))
    assert normalised(after) == normalised(before)


def test_export_writes_to_standard_output(cast, lenses, capsys):
    call_command("export_workload", str(cast.workload.uuid), "--user", "vic")
    assert json.loads(capsys.readouterr().out)["workload"]["name"] == "Checkout"


def test_an_outsider_cannot_export(cast):
    with pytest.raises(CommandError, match="otto is in no team with a workload"):
        call_command("export_workload", str(cast.workload.uuid), "--user", "otto")


@pytest.mark.parametrize(
    ("who", "team", "message"),
    [
        ("otto", "team", "otto is not in a team"),
        ("vic", "team", "vic cannot import into Alpha: only admins and members can"),
        ("alice", "nonsense", "“nonsense” is not a team id"),
    ],
)
def test_import_asks_who_may(cast, tmp_path, who, team, message):
    path = tmp_path / "x.json"
    path.write_text("{}")
    team_id = str(cast.team.uuid) if team == "team" else team
    with pytest.raises(CommandError, match=message):
        call_command("import_workload", str(path), "--team", team_id, "--user", who)


def test_a_refused_file_lists_its_problems(cast, tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"format": "pillarwise-workload", "schemaVersion": 1, "workload": []}')
    with pytest.raises(CommandError) as refused:
        call_command("import_workload", str(path), "--team", str(cast.team.uuid), "--user", "alice")
    assert str(refused.value).splitlines()[:4] == [
        "Nothing was imported:",
        "workload: expected an object, found a list",
        "workload.name: missing",
        "workload.environment: missing: expected one of production, preproduction",
    ]


def test_a_missing_file_is_said(cast, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(
            "import_workload",
            str(tmp_path / "nope.json"),
            "--team",
            str(cast.team.uuid),
            "--user",
            "alice",
        )
