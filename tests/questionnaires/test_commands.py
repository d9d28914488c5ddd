"""import_lens, export_lens and load_lenses."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from questionnaires.models import Lens
from tests.conftest import PUBLISHED_LENSES as SHARED
from tests.conftest import needs_published_lenses
from tests.questionnaires.test_lensfile import lens, raw


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


@needs_published_lenses
def test_import_lens_reports_each_file(db, tmp_path):
    good = tmp_path / "good.json"
    good.write_bytes(raw(lens(_note="x")))
    output = run("import_lens", str(good), str(SHARED / "Passport-Custom-Lens.json"))
    assert f"{good}: imported as Test lens v1" in output
    assert "warning: the top level: extra key '_note' ignored" in output
    assert "AWS Passport Custom Lens v1" in output


def test_import_lens_fails_with_the_errors_and_imports_the_good_ones(db, tmp_path):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(raw(lens()))
    bad.write_text('{"name": ')
    err = StringIO()
    with pytest.raises(CommandError, match="2 of 3 file"):
        call_command(
            "import_lens",
            str(good),
            str(bad),
            str(tmp_path / "missing.json"),
            stdout=StringIO(),
            stderr=err,
        )
    # the good file is in; the unreadable and the invalid ones are explained
    assert Lens.objects.filter(name="Test lens").count() == 1
    assert "rejected, nothing imported" in err.getvalue()
    assert "invalid JSON at line 1, column 10" in err.getvalue()
    assert "cannot read" in err.getvalue()


def test_export_lens_prints_json_and_picks_versions(no_lenses, tmp_path):
    path = tmp_path / "lens.json"
    path.write_bytes(raw(lens()))
    run("import_lens", str(path))
    path.write_bytes(raw(lens(description="Second")))
    run("import_lens", str(path))
    assert json.loads(run("export_lens", "Test lens"))["description"] == "Second"
    assert (
        json.loads(run("export_lens", "Test lens", "--version", "1"))["description"]
        == "A lens for tests."
    )
    with pytest.raises(CommandError, match="No lens 'Nope'. Lenses: Test lens"):
        run("export_lens", "Nope")
    with pytest.raises(CommandError, match="version 7"):
        run("export_lens", "Test lens", "--version", "7")


def test_load_lenses_is_idempotent(no_lenses):
    first = run("load_lenses")
    second = run("load_lenses")
    assert "Well-Architected Framework v1: loaded" in first
    assert "Well-Architected Framework v1: already loaded" in second
    assert Lens.objects.count() == 3


def test_import_lens_into_a_library(tmp_path, no_lenses):
    path = tmp_path / "lens.json"
    path.write_bytes(raw(lens()))
    assert "imported as Test lens v1" in run("import_lens", str(path), "--library", "team-a")
    stored = Lens.objects.get()
    assert (stored.library, stored.is_builtin) == ("team-a", False)
    with pytest.raises(CommandError, match="--library '': the built-in library is read-only"):
        run("import_lens", str(path), "--library", "")
    assert Lens.objects.count() == 1


@needs_published_lenses
def test_check_lens_lists_warnings_and_errors_and_imports_nothing(tmp_path, no_lenses):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(raw(lens(_version="0.1", _note="x")))
    bad.write_bytes(raw(lens(pillars=[{"id": "p"}])))
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 of 3 file"):
        call_command(
            "check_lens",
            str(good),
            str(bad),
            str(SHARED / "Passport-Custom-Lens.json"),
            stdout=out,
            stderr=err,
        )
    assert f"{good}: can be imported as Test lens v1 · 0.1\n" in out.getvalue()
    assert "  warning: the top level: extra key '_note' ignored" in out.getvalue()
    assert f"{bad}: cannot be imported:\n  error: pillars[0]: missing required field 'name'" in (
        err.getvalue()
    )
    assert "Passport-Custom-Lens.json: can be imported as AWS Passport Custom Lens v1" in (
        out.getvalue()
    )
    assert not Lens.objects.exists()


def test_check_lens_says_what_an_import_would_do(db, tmp_path):
    path = tmp_path / "lens.json"
    path.write_bytes(raw(lens()))
    run("import_lens", str(path))
    assert "already holds exactly this content" in run("check_lens", str(path))
    assert "can be imported as Test lens v1" in run("check_lens", str(path), "--library", "b")
    with pytest.raises(CommandError, match="read-only"):
        run("check_lens", str(path), "--library", "")


@needs_published_lenses
def test_export_lens_prefers_the_builtin_lens_and_takes_a_library(lenses, tmp_path):
    from questionnaires.services import lens_export

    framework = lenses["Well-Architected Framework"]
    path = tmp_path / "ours.json"
    path.write_text(lens_export(framework).replace('"description": "', '"description": "Ours. ', 1))
    run("import_lens", str(path))
    run("import_lens", str(path), "--library", "team-a")
    builtin = json.loads(run("export_lens", "Well-Architected Framework"))
    assert not builtin["description"].startswith("Ours.")
    ours = json.loads(run("export_lens", "Well-Architected Framework", "--library", "team-a"))
    assert ours["description"].startswith("Ours.")
    run("import_lens", str(SHARED / "Passport-Custom-Lens.json"), "--library", "team-a")
    run("import_lens", str(SHARED / "Passport-Custom-Lens.json"), "--library", "team-b")
    with pytest.raises(CommandError, match="in several libraries \\('team-a', 'team-b'\\)"):
        run("export_lens", "AWS Passport Custom Lens")
