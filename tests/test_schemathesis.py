"""Schemathesis against the service's own OpenAPI schema: no 5xx, and every 4xx carries a JSON detail.

Cases are generated per operation from the schema (schemathesis strategies driven by hypothesis) and sent
to the app in-process, with the real index and model loaded by the app's lifespan.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from search.server import ApiSettings, create_app

EXAMPLES = 30


def test_no_server_errors_and_every_error_has_a_detail(real_index: Path, tmp_path: Path, monkeypatch) -> None:
    idx = tmp_path / "idx"
    shutil.copytree(real_index, idx)
    monkeypatch.setenv("FPSEARCH_TOKEN", "schemathesis-token")
    app = create_app(idx, settings=ApiSettings(max_batch=4, max_embed_inputs=8, max_k=20, max_add_documents=3))
    stats = {"operations": 0, "calls": 0, "2xx": 0, "4xx": 0, "5xx": 0}
    failures: list[str] = []
    with TestClient(app) as client:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        for result in schema.get_all_operations():
            operation = result.ok()
            stats["operations"] += 1

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def run(case) -> None:
                headers = dict(case.headers or {})
                if operation.method.upper() in ("POST", "DELETE") and operation.path in (
                    "/documents",
                    "/documents/{doc_id}",
                    "/reload",
                ):
                    headers["Authorization"] = "Bearer schemathesis-token"
                kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
                kwargs.pop("base_url", None)
                method, url = kwargs.pop("method"), kwargs.pop("url")
                response = client.request(
                    method, url, **{k: v for k, v in kwargs.items() if k in ("headers", "params", "json", "content")}
                )
                stats["calls"] += 1
                bucket = f"{response.status_code // 100}xx"
                stats[bucket] = stats.get(bucket, 0) + 1
                where = f"{method} {url} -> {response.status_code}: {response.text[:200]}"
                if response.status_code >= 500:
                    failures.append(where)
                elif response.status_code >= 400:
                    try:
                        body = response.json()
                    except ValueError:
                        body = None
                    if not (isinstance(body, dict) and "detail" in body):
                        failures.append("no JSON detail: " + where)

            run()
    print(f"\nschemathesis: {stats}")
    assert stats["operations"] >= 8 and stats["calls"] >= 8 * 5
    assert not failures, "\n".join(failures[:10])
