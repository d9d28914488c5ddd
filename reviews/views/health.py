"""Health: liveness (/healthz) and readiness (/readyz), for load balancers and orchestrators.
Neither needs a login or HTTPS."""

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and the benchmark's baseline: no database, no session."""
    return HttpResponse("ok", content_type="text/plain")


def _database_up() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def _redis_state() -> str:
    """ "up", "down", or "not used" (the embedded setup)."""
    if not settings.REDIS_URL:
        return "not used"
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_TIMEOUT,
        socket_timeout=settings.REDIS_TIMEOUT,
    )
    try:
        return "up" if client.ping() else "down"
    except redis.RedisError:
        return "down"
    finally:
        client.close()


@login_not_required
@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 503 when the database cannot be reached, 200 otherwise. Redis is reported,
    never failed on: without it pages, sign-in and answers still work (live updates wait), so
    a node whose Redis is down must stay in the load balancer."""
    database = "up" if _database_up() else "down"
    return JsonResponse(
        {"database": database, "redis": _redis_state()},
        status=200 if database == "up" else 503,
    )
