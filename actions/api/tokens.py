"""Making, checking and revoking personal access tokens.

A token reads `pw_<prefix>_<secret>`: the prefix finds the row, the SHA-256 of the whole
token is compared with the stored digest in constant time. The token itself is never
stored, so it can be shown once only."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from actions.api.models import ApiToken
from reviews.errors import ServiceError

TOKEN_PREFIX = "pw_"
NAME_MAX_LENGTH = 100
# The last use is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, user, name: str, scope: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token and its secret text: the only time the text exists outside the client."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("Give the token a name that says what uses it.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise ServiceError(f"Keep the name to {NAME_MAX_LENGTH} characters.", field="name")
    if scope not in ApiToken.Scope.values:
        raise ServiceError("Choose read or write.", field="scope")
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError("The expiry date must be in the future.", field="expires_on")
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        scope=scope,
        prefix=prefix,
        digest=_digest(raw),
        expires_at=expires_at,
    )
    return token, raw


def token_authenticate(raw: str) -> ApiToken | None:
    """The usable token `raw` names (its user active), or None; records its use."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, _, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not prefix or not secret:
        return None
    token = ApiToken.objects.usable().select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(raw)):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


@transaction.atomic
def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token at once; revoking it again changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
