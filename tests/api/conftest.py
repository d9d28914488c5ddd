"""The API's tests: tokens for the cast, and a client that sends them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from actions.api import tokens


class ApiClient:
    """Django's test client speaking JSON with a bearer token."""

    def __init__(self, raw: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw}"} if raw else {}

    def get(self, path: str, **params: Any):
        return self.client.get(path, params, headers=self.headers)

    def patch(self, path: str, body: Any):
        return self.client.patch(
            path, json.dumps(body), content_type="application/json", headers=self.headers
        )


def make_token(user, scope: str = "write") -> str:
    return tokens.token_create(user=user, name=f"{user.username} {scope}", scope=scope)[1]


@pytest.fixture
def api_as():
    """`api_as(user, scope="write")`: an ApiClient with a new token of the user's."""
    return lambda user, scope="write": ApiClient(make_token(user, scope))
