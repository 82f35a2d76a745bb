"""``/docs`` works offline: the Swagger UI page refers only to this server's own files (no
CDN), each of them is served, and the OpenAPI document it loads lists the API."""

from __future__ import annotations

import re

import httpx
from tests.support.headrace_server import LiveServer


def test_docs_page_and_its_assets_come_from_this_server(server: LiveServer) -> None:
    page = httpx.get(f"{server.url}/docs", timeout=10)
    assert page.status_code == 200
    html = page.text
    assert "SwaggerUIBundle" in html
    refs = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", html)
    refs += re.findall(r"""url: ?['"]([^'"]+)['"]""", html)
    assert refs, html
    assert not [r for r in refs if "://" in r or r.startswith("//")], refs
    for ref in refs:
        answer = httpx.get(f"{server.url}{ref}", timeout=10)
        assert answer.status_code == 200, ref
    assert httpx.get(f"{server.url}/docs/assets/swagger-ui-bundle.js", timeout=10).content
    spec = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    assert "/api/task_runs/{task_run_id}/attempts" in spec["paths"]
