from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from questionnaires.models import SHARED_LIBRARY
from questionnaires.services import LensLibraryError, lens_check


class Command(BaseCommand):
    help = (
        "Check lens files as import_lens would read them, listing their warnings and errors; "
        "nothing is imported. Fails when a file could not be imported."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument(
            "--library",
            default=SHARED_LIBRARY,
            help=f"the library an import would go into (default: {SHARED_LIBRARY!r})",
        )

    def handle(self, *args: Any, paths: list[Path], library: str, **options: Any) -> None:
        failed = 0
        for path in paths:
            try:
                check = lens_check(raw=path.read_bytes(), library=library)
            except OSError as exc:
                failed += 1
                self.stderr.write(f"{path}: cannot read: {exc.strerror}")
                continue
            except LensLibraryError as exc:
                raise CommandError(f"--library {library!r}: {exc}") from None
            if check.data is None:
                failed += 1
                self.stderr.write(f"{path}: cannot be imported:")
                for error in check.errors:
                    self.stderr.write(f"  error: {error}")
            elif check.same_as is not None:
                self.stdout.write(
                    f"{path}: can be imported; {check.same_as} already holds exactly this content"
                )
            else:
                label = f" · {check.data.version_label}" if check.data.version_label else ""
                self.stdout.write(
                    f"{path}: can be imported as {check.data.name} v{check.next_version}{label}"
                )
            for warning in check.warnings:
                self.stdout.write(f"  warning: {warning}")
        if failed:
            raise CommandError(f"{failed} of {len(paths)} file(s) cannot be imported")
