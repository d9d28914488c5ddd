from django.urls import path

from actions.api import views

app_name = "api"

urlpatterns = [
    path("settings/tokens/", views.token_list, name="tokens"),
    path("settings/tokens/<uuid:token_uuid>/revoke/", views.token_revoke, name="token_revoke"),
]
