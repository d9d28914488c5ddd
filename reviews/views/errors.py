"""Error responses. A refused htmx request gets the reason as plain text, which the page shows
in its toast ("Answers are closed: …" rather than "That did not work (403)"); a plain request
gets the ordinary error page. Reasons come from the messages our views and services raise;
what Django itself knows (the URL patterns tried, a suspicious header) stays on the server."""

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404
from django.utils.html import escape
from django.views import csrf, defaults

from reviews.access import PhaseClosed

NOT_FOUND = "Not found. Reload the page."
EXPIRED = "This page has expired. Reload it and try again."
NOT_UNDERSTOOD = "The request was not understood. Reload the page and try again."


def _from_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _reason(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _message(exception: Exception | None, fallback: str) -> str:
    message = exception.args[0] if exception is not None and exception.args else ""
    return message if isinstance(message, str) and message.strip() else fallback


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _from_htmx(request):
        return _reason(NOT_UNDERSTOOD, 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403, or 409 Conflict when the phase has closed what was asked (PhaseClosed)."""
    status = 409 if isinstance(exception, PhaseClosed) else 403
    if _from_htmx(request):
        return _reason(_message(exception, "You cannot do that here."), status)
    if status == 409:
        text = escape(_message(exception, "The review's phase does not allow this."))
        return HttpResponse(f"<h1>Conflict</h1><p>{text}</p>", status=409)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _from_htmx(request):
        known = not isinstance(exception, Resolver404)
        return _reason(_message(exception, NOT_FOUND) if known else NOT_FOUND, 404)
    return defaults.page_not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """No or a wrong CSRF token: a page from before a sign-out, or one left open too long."""
    if _from_htmx(request):
        return _reason(EXPIRED, 403)
    return csrf.csrf_failure(request, reason)
