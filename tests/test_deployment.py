"""The production processes: docker-compose.yml describes the stack (checked by reading it),
and the web server it runs serves the app when started natively the same way."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_describes_the_full_stack():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "redis", "web", "worker", "beat"}
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["DEBUG"] == "false"
        assert set(services[name]["depends_on"]) == {"db", "redis"}
    assert "config.asgi:application" in services["web"]["command"]
    # Ready means: reaches the database. Redis down keeps it in (see tests/reviews/test_health.py).
    assert "http://127.0.0.1:8000/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "uvicorn_worker.UvicornWorker" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "collectstatic" in dockerfile and "libharfbuzz-subset0" in dockerfile


def test_gunicorn_with_uvicorn_workers_serves_the_app(tmp_path, free_port):
    port = free_port
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "false",
        "HTTPS": "false",
        "SECRET_KEY": "test-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    env.pop("REDIS_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={**env, "STATIC_ROOT": str(tmp_path / "static")},
        check=True,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.asgi:application", "--worker-class",
         "uvicorn_worker.UvicornWorker", "--workers", "2", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env={**env, "STATIC_ROOT": str(tmp_path / "static")},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as r:
                    assert r.status == 200 and b"Sign in" in r.read()
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/app.css", timeout=5) as r:
            assert r.status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
