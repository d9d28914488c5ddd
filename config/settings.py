"""Pillarwise settings: one file, read from the environment.

With no DATABASE_URL the app runs on SQLite; with no REDIS_URL Celery tasks run eagerly in the
web process and live-session events are broadcast in-process. Set both for the full stack
(PostgreSQL, Redis, a Celery worker and beat). See README.md for every variable.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def parse_bool(name: str, value: str) -> bool:
    """1/0, true/false, yes/no, on/off, in any case and with spaces around; anything else
    is a mistake that must stop start-up, never a silent false (HTTPS=flase would turn off
    HSTS and secure cookies)."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a yes or no: use one of "
        f"{', '.join(TRUE_WORDS)} or {', '.join(FALSE_WORDS)}."
    )


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else parse_bool(name, value)


def envint(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r} must be at least {minimum}.")
    return number


def envfloat(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = float(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
    if not 0 < number < float("inf"):
        raise ImproperlyConfigured(f"{name}={value!r} must be a number above 0.")
    return number


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


def email_settings(url: str) -> dict[str, object]:
    """Translate EMAIL_URL (smtp://user:pass@host:587?tls=1, smtps://…, console://,
    file:///path, locmem://) into Django's EMAIL_* settings.

    smtp:// speaks plain SMTP, upgraded with STARTTLS by ?tls=1 (port 587); smtps:// (or
    ?ssl=1) speaks TLS from the first byte (port 465). A server does one or the other, and
    Django refuses both at once, so asking for both is an error here, at start-up, rather
    than every email failing later."""
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
    config: dict[str, object] = {"EMAIL_BACKEND": backends[parts.scheme]}
    if parts.scheme == "file":
        config["EMAIL_FILE_PATH"] = unquote(parts.path)
    if parts.scheme in ("smtp", "smtps"):
        unknown = sorted(set(query) - {"tls", "ssl", "timeout"})
        if unknown:
            raise ImproperlyConfigured(
                f"EMAIL_URL: unknown option {unknown[0]!r} (the options are tls, ssl, timeout)"
            )
        use_ssl = parts.scheme == "smtps" or parse_bool("EMAIL_URL ssl", query.get("ssl", "0"))
        use_tls = parse_bool("EMAIL_URL tls", query.get("tls", "0"))
        if use_ssl and use_tls:
            raise ImproperlyConfigured(
                "EMAIL_URL asks for both implicit TLS (smtps:// or ssl=1, usually port 465) "
                "and STARTTLS (tls=1, usually port 587); a server speaks one of them. Use "
                "smtps://host:465 or smtp://host:587?tls=1."
            )
        try:
            port = parts.port
            timeout = int(query.get("timeout", "10"))
        except ValueError:
            raise ImproperlyConfigured(
                "EMAIL_URL: the port and the timeout must be whole numbers"
            ) from None
        config.update(
            EMAIL_HOST=parts.hostname or "localhost",
            EMAIL_PORT=port or (465 if use_ssl else 25),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_SSL=use_ssl,
            EMAIL_USE_TLS=use_tls,
            EMAIL_TIMEOUT=timeout,
        )
    return config


DEBUG = envbool("DEBUG", True)
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
    "axes",
    "csp",
    # The API's docs page: Swagger UI's files, served from here (no CDN).
    "ninja",
    "questionnaires",
    "reviews",
    "actions",
    "actions.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Pages in the signed-in person's time zone.
    "actions.timezones.UserTimeZoneMiddleware",
    # The ways in that need no account answer 429 past RATE_LIMITS (below).
    "reviews.throttling.RateLimitMiddleware",
    # Every page needs a signed-in user unless its view says @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a lockout into the "try again at" page.
    "axes.middleware.AxesMiddleware",
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
WEB_THREADS = envint("WEB_THREADS", 16, minimum=1)

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
        "min_size": envint("DB_POOL_MIN", 2),
        "max_size": envint("DB_POOL_MAX", 20, minimum=1),
        "timeout": envfloat("DB_POOL_TIMEOUT", 10.0),
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

# django-axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "reviews.backends.UsernameOrEmailBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A password-reset link works for a day, and once.
PASSWORD_RESET_TIMEOUT = 24 * 3600

# Sign-in lockout (django-axes), on the login page and the admin's: after
# LOGIN_FAILURE_LIMIT wrong passwords for one account from one client address, that pair is
# locked for LOGIN_LOCKOUT_MINUTES from the last failure. Failures are rows in the database,
# so the lockout holds without Redis. Trying during the lockout does not extend it; a
# successful sign-in or a password reset clears the failures.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_CLIENT_IP_CALLABLE = "reviews.throttling.client_ip"
AXES_USERNAME_CALLABLE = "reviews.backends.login_name"
AXES_LOCKOUT_CALLABLE = "reviews.views.accounts.locked_out"

# The client address behind a proxy. Empty (the default): the address of the connection
# (REMOTE_ADDR), right when nothing stands in front of the app. Behind a proxy, name the
# header it sets (X-Forwarded-For, X-Real-IP, ...) and how many proxies in front of the app
# add to it: the address is read that many entries from the right, since entries further
# left come from the client and can be forged. Never set this without a proxy that
# overwrites or appends to that header.
CLIENT_IP_HEADER = os.getenv("CLIENT_IP_HEADER", "").strip()
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 1, minimum=1)

# Requests per client address (per /64 for IPv6) on the ways in that need no account, by URL
# name: (rate, methods). Past the rate the answer is a 429 with Retry-After. The counters are
# in the cache; when it cannot be reached they are not counted (they fail open) and the
# request goes through: the sign-in lockout above does not depend on the cache.
RATE_LIMITS: dict[str, tuple[str, tuple[str, ...]]] = {
    "login": ("30/10m", ("POST",)),
    "admin:login": ("30/10m", ("POST",)),
    "password_reset": ("10/15m", ("POST",)),
    "password_reset_confirm": ("30/10m", ("GET", "POST")),
    "reviews:invitation_accept": ("30/10m", ("GET", "POST")),
    "reviews:team_invitation_answer": ("30/10m", ("GET", "POST")),
    "actions:calendar_feed": ("60/10m", ("GET", "HEAD")),
}
# The API (actions/api): requests per token and window, reads (GET) and writes counted apart.
# Past the rate the answer is a 429 with Retry-After.
API_RATE_READ = os.getenv("API_RATE_READ", "600/m")
API_RATE_WRITE = os.getenv("API_RATE_WRITE", "120/m")
RATELIMIT_USE_CACHE = "default"
RATELIMIT_CACHE_PREFIX = "pillarwise:rl:"
RATELIMIT_FAIL_OPEN = True

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
REDIS_TIMEOUT = envfloat("REDIS_TIMEOUT", 1.0)
SESSION_ENGINE = "django.contrib.sessions.backends.db"
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            # An unreachable Redis costs a request REDIS_TIMEOUT at most, never a hang; a cache
            # error is a miss (config/cache.py).
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
        }
    }
    # Sessions stay in the database (Django's default engine), never in the cache: a page
    # or a sign-in must not depend on Redis.
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

# Background jobs (reviews/jobs.py) are rows. A failed attempt is tried again after
# JOB_BACKOFF_SECONDS, doubling each time up to JOB_BACKOFF_MAX_SECONDS; the sweep, every
# JOB_SWEEP_SECONDS, sends what is due again: retries, messages lost, and jobs whose worker
# died (their lease expired). A late sweep message is dropped, not run twice.
JOB_BACKOFF_SECONDS = envfloat("JOB_BACKOFF_SECONDS", 30.0)
JOB_BACKOFF_MAX_SECONDS = envfloat("JOB_BACKOFF_MAX_SECONDS", 3600.0)
JOB_SWEEP_SECONDS = envfloat("JOB_SWEEP_SECONDS", 60.0)
CELERY_BEAT_SCHEDULE["sweep-jobs"] = {
    "task": "reviews.tasks.sweep_jobs",
    "schedule": JOB_SWEEP_SECONDS,
    "options": {"expires": JOB_SWEEP_SECONDS * 0.9},
}
# The action-plan PDF task's hard time limit in seconds (the soft one stops rendering a
# little before); a PDF job's lease is a fifth longer.
PDF_TIME_LIMIT = envint("PDF_TIME_LIMIT", 150, minimum=1)

# Reminders (the cadence): the dispatcher every REMINDER_DISPATCH_SECONDS (five minutes by
# default) works out what is due and queues the sending; a late sweep message is dropped (two
# sweeps at once would still send nothing twice). The weekly digest goes out on Monday
# mornings.
REMINDER_DISPATCH_SECONDS = envfloat("REMINDER_DISPATCH_SECONDS", 300.0)
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

# Without Redis there is no beat: each web process runs the schedule above itself, in a
# thread started with the ASGI server (reviews/periodic.py). SCHEDULE_IN_PROCESS=false
# turns that off (then run `manage.py send_reminders` from cron instead).
SCHEDULE_IN_PROCESS = envbool("SCHEDULE_IN_PROCESS", True)
# Live pages: each event stream sends a heartbeat every this many seconds; a page that hears
# nothing for longer shows that it is reconnecting, and reconnects.
LIVE_HEARTBEAT_SECONDS = envfloat("LIVE_HEARTBEAT_SECONDS", 15.0)
# A change is rendered once and its HTML sent with its event (reviews/live_fragments.py), in
# this many threads of each web process, after the change commits; 0: in the request itself.
LIVE_RENDER_THREADS = envint("LIVE_RENDER_THREADS", 2)
# Who is here changes whenever a live page opens or closes: at most one such event per
# session every this many seconds, carrying the list as it stands then; 0: one per change.
LIVE_PRESENCE_SECONDS = envfloat("LIVE_PRESENCE_SECONDS", 1.0)

# Email: EMAIL_URL, e.g. smtp://user:password@mail.example.com:587?tls=1
EMAIL_URL = os.getenv("EMAIL_URL", "console://")
globals().update(email_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "Pillarwise <pillarwise@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Production hardening. HTTPS defaults on whenever DEBUG is off (docker-compose.yml keeps
# that default); set HTTPS=false only for a local stack served over plain http.
HTTPS = envbool("HTTPS", not DEBUG)
if HTTPS:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Load balancers and orchestrators probe these over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "reviews.views.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts, styles, images, fonts and connections
# (htmx requests, the live event stream) come from our own origin only. No inline script,
# no inline event handler, no inline style (htmx's own indicator style is turned off in
# base.html and lives in app.css), no eval.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
    "loggers": {"pillarwise": {"level": os.getenv("LOG_LEVEL", "INFO")}},
}
