"""ASGI entry point. Pillarwise is served over ASGI so that the live-session event streams
(Server-Sent Events) are held by the event loop, not by a thread each."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()
