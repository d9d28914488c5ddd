"""Throttling the ways in that need no account: the client's address, and rate limits.

RATE_LIMITS in settings names the views (by URL name) and their rate per client address.
The counting is django-ratelimit's (fixed windows in the cache); what is ours is the answer
(a 429 with Retry-After and a message that says when to try again) and that a cache that
cannot be reached counts nothing rather than refusing or failing the request.

The sign-in lockout is django-axes's (see settings); it takes the client address from
`client_ip` here, so both see the same address behind a proxy."""

from __future__ import annotations

import ipaddress
import logging
import math
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin
from django_ratelimit.core import get_usage

logger = logging.getLogger("pillarwise.throttling")

_HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,64}")


def _address(value: str) -> str | None:
    """The IP address in `value` (an entry of a forwarding header), or None."""
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 192.0.2.1:443
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the connection's (REMOTE_ADDR), or, behind a proxy, the one
    the trusted header names (settings.CLIENT_IP_HEADER), read TRUSTED_PROXY_COUNT entries
    from the right. A header that is missing or holds no address falls back to the
    connection's address."""
    remote = _address(request.META.get("REMOTE_ADDR", "") or "")
    header = settings.CLIENT_IP_HEADER
    if not header or not _HEADER_NAME.fullmatch(header):
        return remote
    raw = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    entries = [entry for entry in str(raw).split(",") if entry.strip()]
    count = settings.TRUSTED_PROXY_COUNT
    if len(entries) < count:
        return remote
    return _address(entries[-count]) or remote


def rate_key(group: str, request: HttpRequest) -> str:
    """What a rate limit counts by: the client's address, its /64 for IPv6 (one machine
    commonly holds a whole /64)."""
    ip = client_ip(request)
    if ip is None:
        return "unknown"
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def wait_in_words(seconds: int) -> str:
    if seconds < 60:
        return "a minute" if seconds > 30 else "a few seconds"
    minutes = math.ceil(seconds / 60)
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def too_many_requests(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    """The 429: a page for a browser, plain text for htmx (its toast shows it) and for
    other clients (calendar apps), and Retry-After in seconds either way."""
    retry_after = max(1, retry_after)
    message = f"Too many requests from your network. Try again in {wait_in_words(retry_after)}."
    accepts_html = "text/html" in request.headers.get("Accept", "")
    if request.headers.get("HX-Request") or not accepts_html:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    else:
        response = render(
            request,
            "throttled.html",
            {"message": message, "retry_after": retry_after},
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit_check(request: HttpRequest, name: str) -> HttpResponse | None:
    """Count this request against the rate of view `name`; the 429 when it is over, None
    otherwise, and None when the counters cannot be reached (fail open)."""
    limit = settings.RATE_LIMITS.get(name)
    if limit is None:
        return None
    rate, methods = limit
    try:
        usage = get_usage(
            request, group=name, key=rate_key, rate=rate, method=list(methods), increment=True
        )
    except Exception:
        # A cache error is a miss: the request goes through uncounted.
        logger.warning("Rate limit for %s not counted: the cache failed", name, exc_info=True)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    logger.warning("Rate limit for %s reached by %s", name, rate_key(name, request))
    return too_many_requests(request, retry_after=int(usage["time_left"]))


class RateLimitMiddleware(MiddlewareMixin):
    """Applies settings.RATE_LIMITS to the views they name, before the view runs."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or match.view_name not in settings.RATE_LIMITS:
            return None
        return rate_limit_check(request, match.view_name)
