"""The request type the views see: django-htmx's middleware adds `htmx`, and every view behind
a login sees a real user (AUTH_USER_MODEL is Django's User)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class SignedInRequest(HtmxHttpRequest):
    user: User
