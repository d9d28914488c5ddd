"""The app as test servers serve it in a process of their own (tests.services): the
production router of config.asgi, with static files from the source tree, as DEBUG serves
them (nothing is collected for tests)."""

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from config.asgi import router

application = ASGIStaticFilesHandler(router)
