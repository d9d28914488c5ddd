from django.core.management.base import BaseCommand, CommandError

from questionnaires.models import Lens
from questionnaires.services import lens_export


class Command(BaseCommand):
    help = "Print a lens as lens-file JSON (its newest version unless --version is given)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version picks the lens version; it replaces the command's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--version", dest="lens_version", type=int)

    def handle(self, *args, name: str, lens_version: int | None, **options):
        lenses = Lens.objects.filter(name=name)
        if lens_version is not None:
            lenses = lenses.filter(version=lens_version)
        lens = lenses.order_by("-version").first()
        if lens is None:
            known = ", ".join(sorted(set(Lens.objects.values_list("name", flat=True)))) or "none"
            wanted = f"{name!r} version {lens_version}" if lens_version else repr(name)
            raise CommandError(f"No lens {wanted}. Lenses: {known}")
        self.stdout.write(lens_export(lens), ending="")
