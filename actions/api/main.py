"""The API: one NinjaAPI with its routers, token auth and rate limits on every operation,
and one shape for every refusal ({"detail", "errors"}), never an HTML page or a 500."""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from actions.api import answers, plan, workloads
from actions.api.auth import TokenAuth, TokenRateThrottle
from reviews.answers import BlindRoundOpen, NotesConflict
from reviews.errors import ServiceError


class PillarwiseAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        """The view's name (`answer_update`), not its module path."""
        return operation.view_func.__name__


api = PillarwiseAPI(
    title="Pillarwise API",
    version="1",
    description=(
        "Workloads, review sessions, answers, findings, action items, milestones and risk "
        "counts, with the rights you have in the app. Send a personal access token "
        "(Preferences → API tokens) as `Authorization: Bearer <token>`."
    ),
    auth=TokenAuth(),
    throttle=[TokenRateThrottle()],
    openapi_url="/schema/",
    docs_url="/docs/",
    # Swagger UI's stylesheet draws its icons as data: images; the policy is otherwise the
    # site's (scripts from our origin only, none inline).
    docs_decorator=csp_update({"img-src": "data:"}),
    urls_namespace="api-v1",
)
api.add_router("/", workloads.router)
api.add_router("/", answers.router)
api.add_router("/", plan.router)

# What config/urls.py includes. Loaded by scripts, not by a signed-in browser: the token is
# the sign-in, so the site's sign-in redirect does not apply (the docs and schema are open).
urls = api.urls
for pattern in urls[0]:
    if isinstance(pattern, URLPattern):
        login_not_required(pattern.callback)


def _error(request: HttpRequest, detail: str, status: int, errors=(), **extra) -> HttpResponse:
    return api.create_response(
        request, {"detail": detail, "errors": list(errors), **extra}, status=status
    )


def _field(loc: tuple | list) -> str:
    """`percent_complete` for ("body", "payload", "percent_complete"); `body` for an error
    on the whole body; `limit` for ("query", "limit")."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path"):
        source, parts = parts[0], parts[1:]
        if source == "body" and parts and parts[0] == "payload":
            parts = parts[1:]
        if source == "query" and parts and parts[0] == "ninja_pagination":
            parts = parts[1:]
        return ".".join(parts) or source
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": _field(error.get("loc", ())), "message": str(error.get("msg", "Invalid."))}
        for error in exc.errors
    ]
    return _error(request, "The request is not valid: see errors.", 400, errors)


@api.exception_handler(NotesConflict)
def _notes_conflict(request: HttpRequest, exc: NotesConflict) -> HttpResponse:
    return _error(
        request,
        str(exc),
        409,
        notes=exc.answer.notes,
        notes_revision=exc.answer.notes_revision,
    )


@api.exception_handler(BlindRoundOpen)
def _blind(request: HttpRequest, exc: BlindRoundOpen) -> HttpResponse:
    return _error(request, str(exc), 409)


@api.exception_handler(ServiceError)
def _refused(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    field = getattr(exc, "field", None)
    errors = [{"field": field, "message": str(exc)}] if field else []
    return _error(request, str(exc), 400, errors)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, str(exc) or "You cannot do this.", 403)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, str(exc) or "Not found.", 404)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, "Send a valid API token: Authorization: Bearer <token>.", 401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    detail = str(exc)
    if exc.status_code == 429:
        detail = "Too many requests with this token: see Retry-After."
    return _error(request, detail, exc.status_code)
