from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from questionnaires.lensfile import LensFileError
from questionnaires.services import lens_import


class Command(BaseCommand):
    help = "Import lens files (AWS custom-lens JSON). A lens whose name exists gets a new version."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args, paths: list[Path], **options):
        failed = 0
        for path in paths:
            try:
                result = lens_import(raw=path.read_bytes(), source_name=path.name)
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
