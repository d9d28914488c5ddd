"""Production settings pass `check --deploy` when the documented variables are set."""

import os
import subprocess
import sys
from pathlib import Path

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
