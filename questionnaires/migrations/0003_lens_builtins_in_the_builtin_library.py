"""Data: the built-in lenses move to the built-in library (""); every lens uploaded before
there were libraries stays in the shared library (the new field's default), and is no longer
taken for the framework lens even where it was imported as a new version of it."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def builtins_to_builtin_library(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Lens = apps.get_model("questionnaires", "Lens")
    Lens.objects.filter(is_builtin=True).update(library="")
    Lens.objects.filter(is_builtin=False, is_framework=True).update(is_framework=False)


def builtins_back(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # The uploads' framework flag is not restored: nothing records which ones had it.
    Lens = apps.get_model("questionnaires", "Lens")
    Lens.objects.filter(library="").update(library="shared")


class Migration(migrations.Migration):
    dependencies = [
        ("questionnaires", "0002_lens_library_and_version_label"),
    ]

    operations = [
        migrations.RunPython(builtins_to_builtin_library, builtins_back),
    ]
