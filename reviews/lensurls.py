"""The lens library's addresses. They keep the questionnaires namespace, the app whose
objects they show; the views are in reviews because a library belongs to a team."""

from django.urls import path

from reviews.views import lenses

app_name = "questionnaires"

urlpatterns = [
    path("lenses/", lenses.lens_list, name="lens_list"),
    path("lenses/check/", lenses.lens_check, name="lens_check"),
    path("lenses/<uuid:lens_uuid>/", lenses.lens_detail, name="lens_detail"),
    path("lenses/<uuid:lens_uuid>/export/", lenses.lens_export, name="lens_export"),
]
