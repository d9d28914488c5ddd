"""Import a workload's review from the AWS Well-Architected Tool (see actions/aws)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from actions.aws.client import wellarchitected_client
from actions.aws.export import parse_lens_arns
from actions.aws.importer import ImportRefused, aws_import
from actions.aws.pull import aws_fetch
from actions.management.commands._aws import team_to_import_into
from reviews.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Import a workload from the AWS Well-Architected Tool into a team: the workload, a "
        "review session with every answer, and a milestone. Credentials come from the "
        "standard AWS chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workload_id", help="the workload's id in the AWS tool")
        parser.add_argument("--team", required=True, help="the team's id (a UUID)")
        parser.add_argument(
            "--user", required=True, help="who imports it (username or email): admin or member"
        )
        parser.add_argument(
            "--lens-arn",
            action="append",
            default=[],
            metavar="NAME=ARN",
            help="map a custom lens there to the lens of that name here",
        )
        parser.add_argument("--region", help="the AWS region (default: from the AWS chain)")
        parser.add_argument(
            "--endpoint-url", help="another endpoint for the AWS tool's API (default: AWS's)"
        )

    def handle(self, *args, **options) -> None:
        team, user = team_to_import_into(options["team"], options["user"])
        try:
            client = wellarchitected_client(
                region=options["region"], endpoint_url=options["endpoint_url"]
            )
            document = aws_fetch(client=client, workload_id=options["workload_id"])
            report = aws_import(
                team=team,
                user=user,
                document=document,
                lens_arns=parse_lens_arns(options["lens_arn"]),
            )
        except ImportRefused as exc:
            raise CommandError(
                "\n".join(["The workload cannot be imported:", *exc.errors])
            ) from None
        except (ServiceError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from None
        verb = "Created" if report.workload_created else "Updated"
        self.stdout.write(f"{verb} workload “{report.workload.name}” in {team}.")
        self.stdout.write(
            f"Review session {report.session.uuid}: {report.answers} answers, "
            f"{report.not_applicable_choices} best practices not applicable."
        )
        if report.milestone is not None:
            self.stdout.write(f"Milestone “{report.milestone.name}”.")
        for line in report.unknown:
            self.stdout.write(f"Not imported: {line}")
        for line in report.warnings:
            self.stdout.write(f"Warning: {line}")
