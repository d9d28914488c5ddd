"""Sending email: every message has a plain-text and an HTML part, rendered from
templates/emails/<name>.txt and templates/emails/<name>.html, with absolute links."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def build_email(
    *,
    to: Sequence[str],
    template: str,
    context: dict,
    subject: str,
    attachments: Iterable[tuple[str, bytes, str]] = (),
    headers: dict | None = None,
) -> EmailMultiAlternatives:
    context = {"site_url": settings.SITE_URL, "site_name": settings.SITE_NAME, **context}
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        headers=headers or {},
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message


def send_email(**kwargs) -> None:
    """Send one email (see build_email). Errors propagate: callers that retry decide."""
    build_email(**kwargs).send(fail_silently=False)
