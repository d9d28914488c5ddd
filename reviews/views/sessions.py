from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from reviews.access import session_for_user


def session_detail(request: HttpRequest, session_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid)
    return render(
        request, "reviews/session_detail.html", {"access": access, "session": access.session}
    )
