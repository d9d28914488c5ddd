"""Pillarwise settings: one file, read from the environment.

With no DATABASE_URL the app runs on SQLite; with no REDIS_URL Celery tasks run eagerly in the
web process and live-session events are broadcast in-process. Set both for the full stack
(PostgreSQL, Redis, a Celery worker and beat). See README.md for every variable.
"""

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    return os.getenv(name, default).strip().lower() in ("1", "true", "yes", "on")


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


def email_settings(url: str) -> dict:
    """Translate EMAIL_URL (smtp://user:pass@host:587?tls=1, smtps://…, console://,
    file:///path, locmem://) into Django's EMAIL_* settings."""
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "file": "django.core.mail.backends.filebased.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtps": "django.core.mail.backends.smtp.EmailBackend",
    }
    if parts.scheme not in backends:
        raise ImproperlyConfigured(f"EMAIL_URL: unknown scheme {parts.scheme!r}")
    config: dict = {"EMAIL_BACKEND": backends[parts.scheme]}
    if parts.scheme == "file":
        config["EMAIL_FILE_PATH"] = unquote(parts.path)
    if parts.scheme in ("smtp", "smtps"):
        config.update(
            EMAIL_HOST=parts.hostname or "localhost",
            EMAIL_PORT=parts.port or (465 if parts.scheme == "smtps" else 25),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_SSL=parts.scheme == "smtps" or query.get("ssl") in ("1", "true"),
            EMAIL_USE_TLS=query.get("tls") in ("1", "true"),
            EMAIL_TIMEOUT=int(query.get("timeout", "10")),
        )
    return config


DEBUG = envbool("DEBUG", "True")
SECRET_KEY = os.getenv("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "pillarwise-development-only-key-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
# Absolute address of the app, used in emails and calendar feeds.
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = "Pillarwise"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_htmx",
    "template_partials",
    "questionnaires",
    "reviews",
    "actions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a signed-in user unless its view says @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reviews.context_processors.navigation",
                "actions.context_processors.notifications",
            ],
            "builtins": ["django.templatetags.static", "template_partials.templatetags.partials"],
        },
    }
]

# Threads per web process for ordinary (synchronous) views; see config/asgi.py.
WEB_THREADS = int(os.getenv("WEB_THREADS", "16"))

# Forms render through our templates (templates/django/forms/) so every form looks the same.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Database: PostgreSQL through psycopg 3 when DATABASE_URL is set, SQLite otherwise.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=0, conn_health_checks=False
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A pool per process: the ASGI server runs each request in its own thread, so persistent
    # per-thread connections would leak; the pool hands connections back after each request.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.getenv("DB_POOL_MIN", "2")),
        "max_size": int(os.getenv("DB_POOL_MAX", "20")),
        "timeout": float(os.getenv("DB_POOL_TIMEOUT", "10")),
    }
    # Django's backend, with a pool that checks each connection it hands out and replaces
    # those the server dropped (a restart, a failover) before a request gets one.
    DATABASES["default"]["ENGINE"] = "config.postgresql"
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = ["reviews.backends.UsernameOrEmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = os.getenv("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "servestatic.storage.CompressedManifestStaticFilesStorage"
    },
}

# Redis carries the Celery broker, the live-session pub/sub and the cache. Without it,
# tasks run eagerly in-process and events are broadcast inside this process. Nothing a page
# needs depends on it: sessions live in the database, a cache error is a miss, and a call to
# Redis on a request waits at most REDIS_TIMEOUT seconds.
REDIS_URL = os.getenv("REDIS_URL", "")
REDIS_TIMEOUT = float(os.getenv("REDIS_TIMEOUT", "1"))
SESSION_ENGINE = "django.contrib.sessions.backends.db"
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {}

# The action-plan PDF: every minute, re-queue versions a lost message left pending and fail
# those stuck running past the time limit. A late sweep message is dropped, not run twice.
CELERY_BEAT_SCHEDULE["sweep-plan-documents"] = {
    "task": "actions.tasks.sweep_plan_documents",
    "schedule": 60.0,
    "options": {"expires": 50},
}

# The published plan's recap email: every five minutes, re-queue recaps a lost message left
# pending. A late sweep message is dropped, not run twice.
CELERY_BEAT_SCHEDULE["sweep-plan-recaps"] = {
    "task": "actions.tasks.sweep_plan_recaps",
    "schedule": 300.0,
    "options": {"expires": 250},
}

# Reminders (the cadence): the dispatcher every REMINDER_DISPATCH_SECONDS (five minutes by
# default) works out what is due and queues the sending; a late sweep message is dropped (two
# sweeps at once would still send nothing twice). The weekly digest goes out on Monday
# mornings. Without Redis there is no beat: run `python manage.py send_reminders` instead.
REMINDER_DISPATCH_SECONDS = float(os.getenv("REMINDER_DISPATCH_SECONDS", "300"))
CELERY_BEAT_SCHEDULE["dispatch-reminders"] = {
    "task": "actions.tasks.dispatch_reminders",
    "schedule": REMINDER_DISPATCH_SECONDS,
    "options": {"expires": REMINDER_DISPATCH_SECONDS * 0.9},
}
CELERY_BEAT_SCHEDULE["weekly-digest"] = {
    "task": "actions.tasks.send_weekly_digests",
    "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
    "options": {"expires": 3600},
}

# Live pages: each event stream sends a heartbeat every this many seconds; a page that hears
# nothing for longer shows that it is reconnecting, and reconnects.
LIVE_HEARTBEAT_SECONDS = float(os.getenv("LIVE_HEARTBEAT_SECONDS", "15"))

# Email: EMAIL_URL, e.g. smtp://user:password@mail.example.com:587?tls=1
EMAIL_URL = os.getenv("EMAIL_URL", "console://")
globals().update(email_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "Pillarwise <pillarwise@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Production hardening. HTTPS defaults on whenever DEBUG is off; set HTTPS=false only for a
# local stack served over plain http.
HTTPS = envbool("HTTPS", "False" if DEBUG else "True")
if HTTPS:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "True")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.getenv("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Load balancers and orchestrators probe these over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "reviews.views.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
    "loggers": {"pillarwise": {"level": os.getenv("LOG_LEVEL", "INFO")}},
}
