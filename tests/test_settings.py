"""Production settings pass `check --deploy` when the documented variables are set, and
settings read from the environment fail closed: a value that is not understood stops
start-up with a message naming the variable."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[1]


def run_check(**env) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_the_documented_variables():
    result = run_check(
        DEBUG="false",
        SECRET_KEY="k" * 20 + "-production-secret-" + "z9y8x7w6v5u4t3s2r1q0",
        ALLOWED_HOSTS="pillarwise.example.com",
        SITE_URL="https://pillarwise.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check(DEBUG="false", SECRET_KEY="", ALLOWED_HOSTS="pillarwise.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_email_url_parsing():
    from config.settings import email_settings

    smtp = email_settings("smtp://me%40x.org:p%40ss@mail.example.com:587?tls=1")
    assert smtp["EMAIL_HOST"] == "mail.example.com" and smtp["EMAIL_PORT"] == 587
    assert (smtp["EMAIL_HOST_USER"], smtp["EMAIL_HOST_PASSWORD"]) == ("me@x.org", "p@ss")
    assert smtp["EMAIL_USE_TLS"] and not smtp["EMAIL_USE_SSL"]
    assert email_settings("smtps://mail.example.com")["EMAIL_PORT"] == 465
    assert email_settings("file:///tmp/mail")["EMAIL_FILE_PATH"] == "/tmp/mail"
    assert email_settings("console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")


# --- Booleans fail closed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *((word, True) for word in ("1", "true", "yes", "on", "TRUE", " Yes ", "On\n")),
        *((word, False) for word in ("0", "false", "no", "off", "FALSE", " No ", "\tOff")),
    ],
)
def test_booleans_accept_the_friendly_spellings(monkeypatch, raw, expected):
    from config.settings import envbool

    monkeypatch.setenv("SOME_FLAG", raw)
    assert envbool("SOME_FLAG", not expected) is expected


def test_an_unset_boolean_takes_its_default(monkeypatch):
    from config.settings import envbool

    monkeypatch.delenv("SOME_FLAG", raising=False)
    assert envbool("SOME_FLAG", True) is True
    assert envbool("SOME_FLAG", False) is False


@pytest.mark.parametrize("raw", ["flase", "", " ", "2", "yess", "tru", "off!", "y", "n", "none"])
def test_an_unknown_boolean_stops_start_up_naming_the_variable(monkeypatch, raw):
    from config.settings import envbool

    monkeypatch.setenv("HTTPS", raw)
    with pytest.raises(ImproperlyConfigured, match=r"^HTTPS="):
        envbool("HTTPS", True)


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-secret-" + "z9y8x7w6v5u4t3s2r1q0",
    "ALLOWED_HOSTS": "pillarwise.example.com",
}


@pytest.mark.parametrize(("name", "raw"), [("HTTPS", "flase"), ("DEBUG", "maybe")])
def test_the_app_refuses_to_start_on_a_typo(name, raw):
    result = run_check(**{**PRODUCTION, name: raw})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name}={raw!r} is not a yes or no" in result.stderr


@pytest.mark.parametrize(
    ("name", "raw", "extra"),
    [
        ("WEB_THREADS", "lots", {}),
        ("WEB_THREADS", "0", {}),
        ("REMINDER_DISPATCH_SECONDS", "0", {}),
        ("DB_POOL_MAX", "lots", {"DATABASE_URL": "postgres://u@127.0.0.1:5432/none"}),
    ],
)
def test_a_bad_number_stops_start_up_naming_the_variable(name, raw, extra):
    result = run_check(**{name: raw, **extra})
    assert result.returncode != 0
    assert f"{name}={raw!r}" in result.stderr


# --- EMAIL_URL --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "smtps://mail.example.com?tls=1",
        "smtps://mail.example.com:465?tls=true",
        "smtp://mail.example.com:587?ssl=1&tls=1",
    ],
)
def test_email_url_with_both_kinds_of_tls_is_refused(url):
    from config.settings import email_settings

    with pytest.raises(ImproperlyConfigured, match="both implicit TLS .* and STARTTLS"):
        email_settings(url)


def test_email_url_tls_kinds():
    from config.settings import email_settings

    starttls = email_settings("smtp://mail.example.com:587?tls=yes")
    assert starttls["EMAIL_USE_TLS"] and not starttls["EMAIL_USE_SSL"]
    implicit = email_settings("smtps://mail.example.com")
    assert implicit["EMAIL_USE_SSL"] and not implicit["EMAIL_USE_TLS"]
    assert implicit["EMAIL_PORT"] == 465
    plain = email_settings("smtp://mail.example.com?tls=0")
    assert not plain["EMAIL_USE_SSL"] and not plain["EMAIL_USE_TLS"]
    assert plain["EMAIL_PORT"] == 25


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("smtp://mail.example.com?tls=flase", "EMAIL_URL tls='flase' is not a yes or no"),
        ("smtp://mail.example.com?starttls=1", "unknown option 'starttls'"),
        ("smtp://mail.example.com?timeout=soon", "must be whole numbers"),
        ("smtp://mail.example.com:port", "must be whole numbers"),
    ],
)
def test_email_url_mistakes_are_named(url, message):
    from config.settings import email_settings

    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        email_settings(url)


def test_sending_with_the_refused_combination_would_have_failed():
    """Why smtps://…?tls=1 is refused at start-up: Django's SMTP backend will not send with
    both set, so every email would fail later instead."""
    from django.core.mail.backends.smtp import EmailBackend

    with pytest.raises(ValueError, match="mutually exclusive"):
        EmailBackend(host="mail.example.com", use_ssl=True, use_tls=True)


# --- HTTPS: the app, Compose and the README agree ---------------------------------------------


def test_https_defaults_on_in_the_app_and_in_compose():
    import yaml

    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.HTTPS)"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("HTTPS", "DEBUG")},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": "s" * 50,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "True", result.stderr
    compose = (ROOT / "docker-compose.yml").read_text()
    environment = yaml.safe_load(compose)["x-app"]["environment"]
    assert environment["HTTPS"] == "${HTTPS:-true}"
    readme = (ROOT / "README.md").read_text()
    assert "HTTPS=false SECRET_KEY=" in readme  # the plain-http try-out says so
