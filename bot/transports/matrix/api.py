"""Raw client-server API calls that matrix-nio does not offer, on nio's HTTP session."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nio

CLIENT_V3 = "/_matrix/client/v3"
MAX_RATE_LIMIT_RETRIES = 5


class ApiError(Exception):
    def __init__(self, what: str, status: int, body: dict[str, Any]) -> None:
        errcode = body.get("errcode", "")
        super().__init__(f"{what} failed: HTTP {status} {errcode} {body.get('error', '')}".strip())
        self.status = status
        self.errcode = errcode


async def call(
    client: nio.AsyncClient, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of an authenticated call; waits out rate limits (429)."""
    headers = {"Authorization": f"Bearer {client.access_token}"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body)
    for _ in range(MAX_RATE_LIMIT_RETRIES):
        response = await client.send(method, CLIENT_V3 + path, data, headers)
        try:
            answer = await response.json(content_type=None)
        except ValueError:
            answer = {}
        finally:
            response.release()
        answer = answer if isinstance(answer, dict) else {}
        if response.status != 429:
            return response.status, answer
        await asyncio.sleep(min(30.0, int(answer.get("retry_after_ms", 1000)) / 1000))
    return 429, answer


async def call_ok(
    client: nio.AsyncClient, what: str, method: str, path: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    status, answer = await call(client, method, path, body)
    if status != 200:
        raise ApiError(what, status, answer)
    return answer
