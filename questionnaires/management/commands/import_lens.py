from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from questionnaires.lensfile import LensFileError
from questionnaires.models import SHARED_LIBRARY
from questionnaires.services import LensLibraryError, lens_import, library_check


class Command(BaseCommand):
    help = (
        "Import lens files (AWS custom-lens JSON) into a library (the shared one unless "
        "--library names another). A lens whose name exists there gets a new version. "
        "Built-in lenses are loaded by load_lenses, never imported."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument(
            "--library",
            default=SHARED_LIBRARY,
            help=f"the library to import into (default: {SHARED_LIBRARY!r})",
        )

    def handle(self, *args: Any, paths: list[Path], library: str, **options: Any) -> None:
        try:
            library_check(library)
        except LensLibraryError as exc:
            raise CommandError(f"--library {library!r}: {exc}") from None
        failed = 0
        for path in paths:
            try:
                result = lens_import(raw=path.read_bytes(), library=library, source_name=path.name)
            except OSError as exc:
                failed += 1
                self.stderr.write(f"{path}: cannot read: {exc.strerror}")
                continue
            except LensFileError as exc:
                failed += 1
                self.stderr.write(f"{path}: rejected, nothing imported:")
                for error in exc.errors:
                    self.stderr.write(f"  {error}")
                continue
            status = "imported" if result.created else "unchanged"
            self.stdout.write(f"{path}: {status} as {result.lens}")
            for warning in result.warnings:
                self.stdout.write(f"  warning: {warning}")
        if failed:
            raise CommandError(f"{failed} of {len(paths)} file(s) not imported")
