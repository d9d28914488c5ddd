from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from questionnaires.models import BUILTIN_LIBRARY, Lens
from questionnaires.services import lens_export


class Command(BaseCommand):
    help = (
        "Print a lens as lens-file JSON (its newest version unless --version is given). "
        "A name in several libraries is the built-in lens unless --library names another."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Our --version picks the lens version; it replaces the command's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--version", dest="lens_version", type=int)
        parser.add_argument("--library", help="the library the lens is in")

    def handle(
        self,
        *args: Any,
        name: str,
        lens_version: int | None,
        library: str | None,
        **options: Any,
    ) -> None:
        lenses = Lens.objects.filter(name=name)
        if library is None:
            libraries = set(lenses.values_list("library", flat=True))
            if len(libraries) > 1 and BUILTIN_LIBRARY not in libraries:
                shown = ", ".join(repr(lib) for lib in sorted(libraries))
                raise CommandError(f"{name!r} is in several libraries ({shown}): say --library")
            if len(libraries) > 1:
                library = BUILTIN_LIBRARY
        if library is not None:
            lenses = lenses.filter(library=library)
        if lens_version is not None:
            lenses = lenses.filter(version=lens_version)
        lens = lenses.order_by("-version").first()
        if lens is None:
            known = ", ".join(sorted(set(Lens.objects.values_list("name", flat=True)))) or "none"
            wanted = f"{name!r} version {lens_version}" if lens_version else repr(name)
            raise CommandError(f"No lens {wanted}. Lenses: {known}")
        self.stdout.write(lens_export(lens), ending="")
