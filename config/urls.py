from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from actions.api import main as api
from actions.views.dashboards import dashboard
from reviews.views import accounts
from reviews.views.health import healthz, readyz

urlpatterns = [
    path("", dashboard, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    # Password reset by email (rate limited: settings.RATE_LIMITS).
    path("password/reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("actions.api.urls")),
    path("", include("reviews.urls")),
    path("", include("reviews.lensurls")),
    path("", include("actions.urls")),
]

# Refused htmx requests say why, in plain text (reviews/views/errors.py).
handler400 = "reviews.views.errors.bad_request"
handler403 = "reviews.views.errors.permission_denied"
handler404 = "reviews.views.errors.page_not_found"
