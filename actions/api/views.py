"""The API tokens page: make a token (its secret shown once), list them with their last
use, revoke one. Works as a plain form (redirect) and with htmx (the list re-renders)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from actions.api import tokens
from actions.api.forms import TokenForm
from actions.api.models import ApiToken
from config.http import SignedInRequest
from reviews.errors import ServiceError

TEMPLATE = "api/tokens.html"


def _token_for_user(request: SignedInRequest, token_uuid: UUID) -> ApiToken:
    """One of the signed-in person's own tokens; anyone else's is a 404."""
    token = ApiToken.objects.filter(user=request.user, uuid=token_uuid).first()
    if token is None:
        raise Http404("No such token.")
    return token


def _context(request: SignedInRequest, form: TokenForm, **extra) -> dict:
    return {
        "form": form,
        "tokens": ApiToken.objects.filter(user=request.user),
        "docs_url": reverse("api-v1:openapi-view"),
        "schema_url": reverse("api-v1:openapi-json"),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def token_list(request: SignedInRequest) -> HttpResponse:
    form = TokenForm(request.POST if request.method == "POST" else None)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = tokens.token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(),
            )
        except ServiceError as exc:
            exc.add_to(form)
        else:
            form = TokenForm()
    context = _context(request, form, created=created, secret=secret)
    # The secret is rendered in this response only: never stored, never in a redirect.
    status = 400 if form.errors else 200
    if request.htmx:
        return render(request, f"{TEMPLATE}#tokens", context, status=status)
    return render(request, TEMPLATE, context, status=status)


@require_POST
def token_revoke(request: SignedInRequest, token_uuid: UUID) -> HttpResponse:
    token = tokens.token_revoke(token=_token_for_user(request, token_uuid))
    if request.htmx:
        return render(request, f"{TEMPLATE}#tokens", _context(request, TokenForm()))
    messages.success(request, f"Token “{token.name}” revoked: it no longer opens the API.")
    return redirect("api:tokens")
