import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402 - after Django is set up
from servestatic import ServeStatic  # noqa: E402

application = ServeStatic(
    django_application,
    root=settings.STATIC_ROOT,
    prefix=settings.STATIC_URL,
    autorefresh=settings.DEBUG,
    immutable_file_test=r"^.+\.[0-9a-f]{12}\..+$",
)
