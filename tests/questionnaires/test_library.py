"""Lens libraries: built-in lenses are global and read-only; every other lens is in one owner's
library (or the shared one), versions are numbered per library and name, and a lens file's own
version label is kept beside the number."""

import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from questionnaires.lensfile import read_lens_file
from questionnaires.models import BUILTIN_LIBRARY, SHARED_LIBRARY, Lens
from questionnaires.services import LensLibraryError, lens_export, lens_import
from tests.questionnaires.test_lensfile import lens, raw

FRAMEWORK = "Well-Architected Framework"


def framework_copy(lenses, title="Reworded?") -> str:
    return lens_export(lenses[FRAMEWORK]).replace(
        "How do you decide what your operations work should focus on first?", title
    )


def test_the_builtin_lenses_are_in_the_builtin_library(lenses):
    assert {(lens.library, lens.is_builtin) for lens in lenses.values()} == {("", True)}
    assert list(Lens.objects.builtin()) == list(Lens.objects.filter(is_builtin=True))


def test_an_upload_named_like_a_builtin_lens_is_a_lens_of_its_own(lenses):
    builtin = lenses[FRAMEWORK]
    upload = lens_import(raw=framework_copy(lenses)).lens
    assert (upload.library, upload.version, upload.is_builtin, upload.is_framework) == (
        SHARED_LIBRARY,
        1,
        False,
        False,
    )
    # The framework lens that new reviews get is still the built-in one.
    assert Lens.objects.filter(is_framework=True).order_by("-version").first() == builtin
    assert Lens.objects.filter(library=BUILTIN_LIBRARY, name=FRAMEWORK).count() == 1
    team = lens_import(raw=framework_copy(lenses), library="team-a").lens
    assert (team.library, team.version, team.is_framework) == ("team-a", 1, False)


def test_versions_are_numbered_per_library_and_name(no_lenses):
    first = lens_import(raw=raw(lens()), library="team-a").lens
    second = lens_import(raw=raw(lens(description="Second")), library="team-a").lens
    other = lens_import(raw=raw(lens(description="Second")), library="team-b").lens
    shared = lens_import(raw=raw(lens())).lens
    assert [(x.library, x.version) for x in (first, second, other, shared)] == [
        ("team-a", 1),
        ("team-a", 2),
        ("team-b", 1),
        ("shared", 1),
    ]
    # Identical content is "nothing new" only within one library.
    again = lens_import(raw=raw(lens(description="Second")), library="team-b")
    assert not again.created and again.lens == other
    assert set(Lens.objects.latest_versions()) == {second, other, shared}


def test_visible_in_is_the_builtin_lenses_and_the_given_libraries(lenses):
    mine = lens_import(raw=raw(lens()), library="team-a").lens
    theirs = lens_import(raw=raw(lens()), library="team-b").lens
    shared = lens_import(raw=raw(lens())).lens
    visible = set(Lens.objects.visible_in(["team-a"]))
    assert visible == {*lenses.values(), mine}
    assert theirs not in visible and shared not in visible
    assert set(Lens.objects.visible_in([])) == set(lenses.values())
    assert set(Lens.objects.visible_in(["team-a", SHARED_LIBRARY]).latest_versions()) == {
        *lenses.values(),
        mine,
        shared,
    }
    with pytest.raises(TypeError):
        Lens.objects.visible_in("team-a")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"library": ""}, "the built-in library is read-only"),
        ({"library": " team"}, "no space at either end"),
        ({"library": "x" * 65}, "up to 64 printable characters"),
        ({"library": "a\x00b"}, "up to 64 printable characters"),
        ({"framework": True}, "only a built-in lens is the framework lens"),
    ],
)
def test_imports_never_go_into_the_builtin_library(options, message, no_lenses):
    with pytest.raises(LensLibraryError, match=message):
        lens_import(raw=raw(lens()), **options)
    assert not Lens.objects.exists()


def test_only_load_lenses_adds_builtin_versions(lenses):
    newer = lens_import(raw=framework_copy(lenses), builtin=True).lens
    assert (newer.library, newer.version, newer.is_framework) == (BUILTIN_LIBRARY, 2, True)


@pytest.mark.parametrize(
    "fields",
    [
        {"library": BUILTIN_LIBRARY, "is_builtin": False},
        {"library": SHARED_LIBRARY, "is_builtin": True},
        {"library": SHARED_LIBRARY, "is_framework": True},
    ],
    ids=["upload in the built-in library", "built-in elsewhere", "framework not built in"],
)
def test_the_database_refuses_a_confused_lens(db, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Lens.objects.create(name="Confused", **fields)


def test_a_lens_made_without_a_library_is_a_shared_upload(db):
    made = Lens.objects.create(name="By hand")
    assert (made.library, made.is_builtin) == (SHARED_LIBRARY, False)


# --- Version labels ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "label", "warnings"),
    [
        ({"_version": "2.0"}, "2.0", []),
        ({"version": " 1.4-beta "}, "1.4-beta", []),
        ({"_version": 3}, "3", []),
        ({"_version": 2.5}, "2.5", []),
        ({}, "", []),
        (
            {"_version": ["2"]},
            "",
            ["_version: a version label must be a string or a number, not a list; ignored"],
        ),
        (
            {"_version": "v" * 33},
            "",
            ["_version: a version label longer than 32 characters is ignored"],
        ),
    ],
)
def test_the_version_label_is_read_from_the_file(extra, label, warnings):
    data = read_lens_file(raw(lens(**extra)))
    assert (data.version_label, data.warnings) == (label, warnings)


def test_the_label_is_stored_shown_exported_and_a_new_label_is_a_new_version(db):
    first = lens_import(raw=raw(lens(_version="2.0"))).lens
    assert (first.version_label, str(first)) == ("2.0", "Test lens v1 · 2.0")
    assert json.loads(lens_export(first))["_version"] == "2.0"
    second = lens_import(raw=raw(lens(_version="2.1"))).lens
    assert (second.version, second.version_display) == (2, "v2 · 2.1")
    unlabelled = lens_import(raw=raw(lens())).lens
    assert (str(unlabelled), "_version" in json.loads(lens_export(unlabelled))) == (
        "Test lens v3",
        False,
    )


# --- The migration -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_migrating_keeps_existing_lenses_and_tells_uploads_from_builtins():
    """Built-ins move to the built-in library; earlier uploads stay in the shared one, and an
    upload that had become "framework v2" is no longer the framework lens."""
    Lens.objects.all().delete()  # the flush after this test puts the built-in lenses back
    executor = MigrationExecutor(connection)
    before = [("questionnaires", "0001_initial")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("questionnaires", "Lens")
    old.objects.create(name=FRAMEWORK, version=1, is_builtin=True, is_framework=True)
    old.objects.create(name=FRAMEWORK, version=2, is_builtin=False, is_framework=True)
    old.objects.create(name="Ours", version=1)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = Lens.objects.order_by("name", "version").values_list(
        "name", "version", "library", "is_builtin", "is_framework"
    )
    assert list(rows) == [
        ("Ours", 1, SHARED_LIBRARY, False, False),
        (FRAMEWORK, 1, BUILTIN_LIBRARY, True, True),
        (FRAMEWORK, 2, SHARED_LIBRARY, False, False),
    ]
    # and the next upload of the framework's name continues the shared lens's numbering
    assert Lens.objects.next_version_for(FRAMEWORK, library=SHARED_LIBRARY) == 3
