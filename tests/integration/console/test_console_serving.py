"""The web console as the control-plane Lambda serves it through API Gateway (the real Mangum
handler): the page, every module it loads, content types, cache headers, security headers on
every response under /console (errors included), and no way out of the static folder."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from inference_core.console.assets import STATIC_ROOT
from tests.integration.conftest import ApiGateway, api_gateway_event, lambda_context

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


def assert_secure(headers: dict[str, str]) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, name


def raw(api_handler, method: str, path: str, headers: dict[str, str] | None = None) -> dict:
    """The Lambda's own answer (before API Gateway), to see how each body is encoded."""
    return api_handler(api_gateway_event(method, path, headers=headers), lambda_context())


def page(gateway: ApiGateway) -> str:
    response = gateway.call("GET", "/console/")
    assert response.status == 200
    return response.text


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(assets/[^"]+)"', html)


def module_graph(gateway: ApiGateway, entry: str) -> dict[str, str]:
    """Every ES module reachable from `entry` (relative imports), fetched through the gateway."""
    seen: dict[str, str] = {}
    todo = [entry]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        response = gateway.call("GET", f"/console/{url}")
        assert response.status == 200, url
        assert response.headers["content-type"] == "text/javascript; charset=utf-8", url
        seen[url] = response.text
        base = url.rsplit("/", 1)[0]
        for spec in re.findall(r'^import .*? from "(\.[^"]+)";$', response.text, flags=re.M):
            parts = base.split("/")
            for piece in spec.split("/"):
                if piece == "..":
                    parts.pop()
                elif piece != ".":
                    parts.append(piece)
            todo.append("/".join(parts))
    return seen


def test_console_redirects_to_its_folder_relatively(gateway):
    response = gateway.call("GET", "/console")
    assert response.status == 308
    # Relative: behind API Gateway the browser is at /<stage>/console, not /console.
    assert response.headers["location"] == "console/"
    assert_secure(response.headers)


def test_the_page_is_html_revalidated_and_locked_down(gateway):
    response = gateway.call("GET", "/console/")
    assert response.status == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["etag"]
    assert_secure(response.headers)
    assert "unsafe" not in response.headers["content-security-policy"]
    html = response.text
    # CSP allows no inline code: every script is a file, no inline handlers or styles.
    assert re.findall(r"<script\b[^>]*>", html) == [
        f'<script type="module" src="{u}">' for u in asset_urls(html) if u.endswith(".js")
    ]
    assert not re.search(r"\son[a-z]+=", html)
    assert "style=" not in html and "<style" not in html
    assert "__ASSETS__" not in html


def test_an_unchanged_page_answers_304(gateway):
    etag = gateway.call("GET", "/console/").headers["etag"]
    response = gateway.call("GET", "/console/", headers={"If-None-Match": etag})
    assert response.status == 304
    assert response.text == ""
    assert_secure(response.headers)


def test_every_module_the_page_loads_is_served_from_one_immutable_version(gateway):
    html = page(gateway)
    urls = asset_urls(html)
    versions = {u.split("/")[1] for u in urls}
    assert len(versions) == 1
    entry = next(u for u in urls if u.endswith("app.js"))
    modules = module_graph(gateway, entry)
    # The graph reaches every page module on disk (nothing orphaned, nothing missing).
    on_disk = {p.relative_to(STATIC_ROOT).as_posix() for p in STATIC_ROOT.rglob("*.js")}
    assert {u.split("/", 2)[2] for u in modules} == on_disk
    for url in [*urls, *modules]:
        response = gateway.call("GET", f"/console/{url}")
        assert response.status == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert_secure(response.headers)
    css = gateway.call("GET", f"/console/{next(u for u in urls if u.endswith('.css'))}")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    # No module writes markup from strings (the CSP forbids inline code; text goes in as text).
    for url, source in modules.items():
        assert ".innerHTML" not in source and "insertAdjacentHTML" not in source, url
        assert "eval(" not in source and "new Function" not in source, url


def test_text_goes_through_api_gateway_as_text_and_images_as_binary(gateway, api_handler):
    urls = asset_urls(page(gateway))
    script = raw(api_handler, "GET", f"/console/{next(u for u in urls if u.endswith('app.js'))}")
    assert script["isBase64Encoded"] is False
    assert "import" in script["body"]
    icon = raw(api_handler, "GET", f"/console/{next(u for u in urls if u.endswith('.svg'))}")
    assert icon["headers"]["content-type"] == "image/svg+xml"
    # Base64 from the Lambda; infra/api.py lists image/* as binary so API Gateway decodes it.
    assert icon["isBase64Encoded"] is True
    assert base64.b64decode(icon["body"]) == (STATIC_ROOT / "favicon.svg").read_bytes()


def test_head_answers_headers_without_a_body(gateway):
    response = gateway.call("HEAD", "/console/")
    assert response.status == 200
    assert response.text == ""
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def _version(gateway) -> str:
    return asset_urls(page(gateway))[0].split("/")[1]


@pytest.mark.parametrize(
    "path",
    [
        "/console/nope",
        "/console/index.html",
        "/console/assets/0000000000000000/js/app.js",  # another version
        "/console/assets/{v}/js/missing.js",
        "/console/assets/{v}/index.html",  # the page only at /console/
        "/console/assets/{v}/../assets.py",
        "/console/assets/{v}/..%2f..%2fmodels.local.json",
        "/console/assets/{v}/%2e%2e/%2e%2e/models.local.json",
        "/console/assets/{v}/js/..%2f..%2f..%2fsettings.py",
        "/console/assets/{v}/..\\..\\models.local.json",
        "/console/assets/{v}//etc/passwd",
        "/console/assets/{v}/.hidden",
        "/console/assets/{v}/js",  # a folder
        "/console/assets/{v}/js/app.js%00.png",
    ],
)
def test_anything_but_a_console_file_is_a_404_with_the_security_headers(gateway, path):
    response = gateway.call("GET", path.replace("{v}", _version(gateway)))
    assert response.status == 404, response.text
    assert response.json()["error"]["type"] == "not_found_error"
    assert_secure(response.headers)
    assert "def " not in response.text and "deployments" not in response.text


def test_other_methods_are_refused_with_the_security_headers(gateway):
    response = gateway.call("POST", "/console/", body={})
    assert response.status == 405
    assert_secure(response.headers)


def test_the_api_itself_keeps_its_own_headers(gateway):
    response = gateway.call("GET", "/health")
    assert response.status == 200
    assert "content-security-policy" not in response.headers


def test_a_symlink_out_of_the_static_folder_is_refused(tmp_path: Path):
    from inference_core.console.assets import ConsoleAssets
    from inference_core.errors import NotFoundError

    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "index.html").write_text('<script src="__ASSETS__/js/a.js"></script>')
    (static / "js" / "a.js").write_text("export {};")
    (tmp_path / "secret.json").write_text('{"key": "sk-live"}')
    (static / "js" / "leak.json").symlink_to(tmp_path / "secret.json")
    assets = ConsoleAssets(static)
    assert assets.asset(assets.version, "js/a.js").body == b"export {};"
    with pytest.raises(NotFoundError):
        assets.asset(assets.version, "js/leak.json")


def test_the_version_changes_with_any_file(tmp_path: Path):
    from inference_core.console.assets import ConsoleAssets

    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text('<link href="__ASSETS__/a.css">')
    (static / "a.css").write_text("a{}")
    before = ConsoleAssets(static).version
    (static / "a.css").write_text("a{color:red}")
    after = ConsoleAssets(static)
    assert before != after.version
    assert f"assets/{after.version}/a.css".encode() in after.index().body
