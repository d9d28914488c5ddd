"""Getting into an account: the sign-in lockout page and the password reset by email.

The views are Django's own; these settings make them ours: our templates, an email in the
style of every other (plain text and HTML, links to SITE_URL rather than to whatever Host
the request named), and a reset that ends any sign-in lockout of the account and signs the
person in."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from reviews import accounts
from reviews.throttling import wait_in_words


def lockout_ends(request: HttpRequest, credentials: dict[str, Any] | None) -> datetime:
    """When the lockout of this account from this address ends: the cool-off after the last
    failure counted (failures during the lockout are not counted)."""
    cool_off = get_cool_off(request) or settings.AXES_COOLOFF_TIME
    last = AccessAttempt.objects.filter(
        username=get_client_username(request, credentials),
        ip_address=getattr(request, "axes_ip_address", None),
    ).aggregate(last=Max("attempt_time"))["last"]
    return (last or timezone.now()) + cool_off


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes's lockout answer (AXES_LOCKOUT_CALLABLE), for our login page and the
    admin's: when to try again, and the way in that does not wait (a password reset)."""
    until = lockout_ends(request, credentials)
    seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
    response = render(
        request,
        "registration/locked_out.html",
        {"until": until, "wait": wait_in_words(seconds)},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


class PasswordResetView(auth_views.PasswordResetView):
    email_template_name = "emails/password_reset.txt"
    html_email_template_name = "emails/password_reset.html"
    subject_template_name = "emails/password_reset_subject.txt"

    @property
    def extra_email_context(self) -> dict[str, str]:  # type: ignore[override]
        return {"site_url": settings.SITE_URL, "site_name": settings.SITE_NAME}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    post_reset_login = True
    post_reset_login_backend = "reviews.backends.UsernameOrEmailBackend"

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        # The email proved the account is theirs: no lockout stands in their way, from
        # any address.
        axes_reset(username=form.user.get_username())
        accounts.email_verified(user=form.user, email=form.user.email)
        return response
