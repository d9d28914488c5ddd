"""Who calls the API, and how often: a bearer token (tokens.py), its scope, and a rate per
token, counted apart for reads and writes (settings API_RATE_READ, API_RATE_WRITE)."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from actions.api import tokens
from actions.api.models import ApiToken

logger = logging.getLogger("pillarwise.api")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    """`Authorization: Bearer pw_…`: the token's user becomes request.user; the token is
    request.auth. Anything else (no token, unknown, revoked, expired) is a 401."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = tokens.token_authenticate(token)
        if found is not None:
            request.user = found.user
        return found


def require_write(request: HttpRequest) -> None:
    """Writes need a token with the write scope: a read token gets a 403 saying so."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    if not token.can_write:
        raise PermissionDenied("This token can only read: make a token with the write scope.")


def _token_key(group: str, request: HttpRequest) -> str:
    return str(request.auth.pk)  # type: ignore[attr-defined]


class TokenRateThrottle(BaseThrottle):
    """A fixed window per token (django-ratelimit's counting, in the cache), reads and
    writes apart. When the cache cannot be reached nothing is counted and the request goes
    through, as for the other rate limits (reviews/throttling.py)."""

    def __init__(self) -> None:
        # One throttle serves every request: the wait of the refused one is per thread.
        self.refused = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        if getattr(request, "auth", None) is None:
            return True
        kind = "read" if request.method in READ_METHODS else "write"
        rate = settings.API_RATE_READ if kind == "read" else settings.API_RATE_WRITE
        try:
            usage = get_usage(
                request, group=f"api-{kind}", key=_token_key, rate=rate, increment=True
            )
        except Exception:
            logger.warning("API rate for token not counted: the cache failed", exc_info=True)
            return True
        if usage is None or not usage["should_limit"]:
            return True
        self.refused.retry_after = max(1, int(usage["time_left"]))
        return False

    def wait(self) -> float:
        return float(getattr(self.refused, "retry_after", 1))
