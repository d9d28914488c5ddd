"""Import a workload exported by export_workload into a team (README, "Export and backup")."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from actions.management.commands._aws import team_to_import_into
from actions.transfer.importer import workload_import
from actions.transfer.reading import MAX_DOCUMENT_BYTES, TransferRefused, document_read


class Command(BaseCommand):
    help = (
        "Import a workload export into a team: lenses matched by name and content, people by "
        "email (anyone with no account in the team is invited), all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the export (JSON)")
        parser.add_argument("--team", required=True, help="the team's id (a UUID)")
        parser.add_argument(
            "--user", required=True, help="who imports it (username or email): admin or member"
        )

    def handle(self, *args, **options) -> None:
        team, user = team_to_import_into(options["team"], options["user"])
        path = Path(options["file"])
        try:
            if path.stat().st_size > MAX_DOCUMENT_BYTES:
                raise TransferRefused([f"the file is larger than {MAX_DOCUMENT_BYTES // 2**20} MB"])
            report = workload_import(
                team=team, user=user, document=document_read(path.read_bytes())
            )
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        except TransferRefused as exc:
            raise CommandError("\n".join(["Nothing was imported:", *exc.errors])) from None
        self.stdout.write(
            f"Imported “{report.workload.name}” ({report.workload.uuid}) into {team}: "
            f"{report.sessions} reviews, {report.answers} answered questions, "
            f"{report.actions} actions."
        )
        for line in report.lenses_imported:
            self.stdout.write(f"Lens imported into the team: {line}")
        for line in report.invitations:
            self.stdout.write(f"Invited (not sent yet): {line}")
        for line in report.warnings:
            self.stdout.write(f"Warning: {line}")
