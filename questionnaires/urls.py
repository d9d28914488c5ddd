from django.urls import path

from questionnaires import views

app_name = "questionnaires"

urlpatterns = [
    path("lenses/", views.lens_list, name="lens_list"),
    path("lenses/check/", views.lens_check, name="lens_check"),
    path("lenses/<uuid:lens_uuid>/", views.lens_detail, name="lens_detail"),
    path("lenses/<uuid:lens_uuid>/export/", views.lens_export, name="lens_export"),
]
