"""Export a whole workload as one JSON document (README, "Export and backup")."""

from __future__ import annotations

import json
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from actions.management.commands._aws import user_named
from actions.transfer.export import workload_export
from reviews.access import workload_for_user


class Command(BaseCommand):
    help = "Write a workload, its reviews, findings, actions and milestones as one JSON document."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workload", help="the workload's id (a UUID)")
        parser.add_argument(
            "--user", required=True, help="who exports it (username or email): a team member"
        )
        parser.add_argument("-o", "--output", help="write to this file (default: standard output)")

    def handle(self, *args, **options) -> None:
        try:
            workload_uuid = UUID(options["workload"])
        except ValueError:
            raise CommandError(f"“{options['workload']}” is not a workload id.") from None
        user = user_named(options["user"])
        try:
            workload, _ = workload_for_user(user, workload_uuid)
        except Http404:
            raise CommandError(f"{user} is in no team with a workload {workload_uuid}.") from None
        text = json.dumps(workload_export(workload), indent=2, ensure_ascii=False) + "\n"
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as out:
                out.write(text)
            self.stderr.write(f"Wrote “{workload.name}” to {options['output']}.")
        else:
            self.stdout.write(text, ending="")
