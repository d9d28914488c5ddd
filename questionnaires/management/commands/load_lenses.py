from django.core.management.base import BaseCommand

from questionnaires.services import lenses_load_builtin


class Command(BaseCommand):
    help = "Load the built-in lenses. Running it again changes nothing."

    def handle(self, *args, **options):
        for result in lenses_load_builtin():
            status = "loaded" if result.created else "already loaded"
            self.stdout.write(f"{result.lens}: {status}")
