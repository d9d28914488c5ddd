"""Throttling, for real: the Stubber bypasses botocore's retries, so a tiny HTTP server on a
free port stands in for the AWS Well-Architected Tool and answers ThrottlingException (HTTP
400 with AWS's JSON error shape) before it succeeds. The client is the one the commands use:
the SDK's standard retry mode, pointed at the server with endpoint_url."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from actions.aws.client import wellarchitected_client
from actions.aws.push import AwsError, workload_find
from tests.actions.aws_helpers import WORKLOAD_ID


class FakeTool:
    """Throttles the first `throttle` requests, then lists one workload."""

    def __init__(self, throttle: int):
        self.throttle = throttle
        self.requests: list[tuple[str, str, dict]] = []
        tool = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)) or 0)
                tool.requests.append((self.command, self.path, json.loads(body or b"{}")))
                if len(tool.requests) <= tool.throttle:
                    self.reply(
                        400,
                        {"message": "Rate exceeded"},
                        {"x-amzn-ErrorType": "ThrottlingException"},
                    )
                else:
                    self.reply(
                        200,
                        {
                            "WorkloadSummaries": [
                                {"WorkloadId": WORKLOAD_ID, "WorkloadName": "Checkout"}
                            ]
                        },
                    )

            def reply(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeTool:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _credentials(monkeypatch, tmp_path):
    """Credentials from the standard chain (the environment), never a real account's."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))


def test_throttled_calls_are_retried_until_they_succeed():
    with FakeTool(throttle=2) as tool:
        client = wellarchitected_client(region="us-east-1", endpoint_url=tool.url)
        assert workload_find(client, "Checkout") == WORKLOAD_ID
    assert len(tool.requests) == 3
    assert all(
        (method, path) == ("POST", "/workloadsSummaries") for method, path, _ in tool.requests
    )
    assert tool.requests[-1][2] == {"WorkloadNamePrefix": "Checkout", "MaxResults": 50}


def test_throttling_that_does_not_stop_ends_in_a_clear_error():
    with FakeTool(throttle=10) as tool:
        client = wellarchitected_client(region="us-east-1", endpoint_url=tool.url, max_attempts=2)
        with pytest.raises(AwsError, match="ListWorkloads .*ThrottlingException: Rate exceeded"):
            workload_find(client, "Checkout")
    assert len(tool.requests) == 2  # the first attempt and one retry, then it gives up
