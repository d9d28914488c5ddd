"""Recreate a review session in the AWS Well-Architected Tool (see actions/aws)."""

from __future__ import annotations

import json
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from actions.aws.client import wellarchitected_client
from actions.aws.export import parse_lens_arns, plan_build
from actions.aws.push import aws_push
from actions.management.commands._aws import user_named
from reviews.access import session_for_user
from reviews.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Push a review session to the AWS Well-Architected Tool: find its workload by name "
        "or create it, answer every answered question, note the lens review and add a "
        "milestone. Credentials come from the standard AWS chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("session", help="the review session's id (a UUID)")
        parser.add_argument(
            "--user", required=True, help="who pushes it (username or email): must manage it"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print the calls as JSON; call nothing"
        )
        parser.add_argument(
            "--lens-arn",
            action="append",
            default=[],
            metavar="NAME=ARN",
            help="map a lens other than the framework to a lens that exists in the account",
        )
        parser.add_argument("--region", help="the AWS region (default: from the AWS chain)")
        parser.add_argument(
            "--endpoint-url", help="another endpoint for the AWS tool's API (default: AWS's)"
        )

    def handle(self, *args, **options) -> None:
        try:
            session_uuid = UUID(options["session"])
        except ValueError:
            raise CommandError(f"“{options['session']}” is not a session id.") from None
        user = user_named(options["user"])
        try:
            access = session_for_user(user, session_uuid)
        except Http404:
            raise CommandError(f"{user} sees no review session {session_uuid}.") from None
        if not access.can_manage:
            raise CommandError(
                f"{user} cannot push this review: only its facilitator or a team admin can."
            )
        try:
            plan = plan_build(
                session=access.session, lens_arns=parse_lens_arns(options["lens_arn"])
            )
            if options["dry_run"]:
                self.stdout.write(json.dumps(plan.as_json(), indent=2, ensure_ascii=False))
                return
            client = wellarchitected_client(
                region=options["region"], endpoint_url=options["endpoint_url"]
            )
            result = aws_push(client=client, plan=plan)
        except (ServiceError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from None
        verb = "Created" if result.created else "Updated"
        self.stdout.write(f"{verb} workload {result.workload_id} ({plan.workload_name}).")
        self.stdout.write(f"Answered {len(result.updated)} questions.")
        if result.milestone_number is not None:
            self.stdout.write(f"Milestone {result.milestone_number} recorded.")
        for line in result.not_exported:
            self.stdout.write(f"Not exported: {line}")
        for line in result.warnings:
            self.stdout.write(f"Warning: {line}")
