"""The console's static files, served from the package (they ship in the Lambda layer).

`index.html` is the one page (no-cache, revalidated by ETag); every other file is served under a
versioned path, `assets/<version>/<file>`, where the version is a digest of the whole static tree,
so browsers may keep them for a year (`immutable`) and a deploy changes every URL at once. ES
modules import each other by relative path, so they stay inside the same versioned folder.

Only files that exist under `static/`, with a known suffix and no dot-segment, are ever read: the
requested path is checked segment by segment and again after resolving it (no traversal, no
symlink escape), and anything else is a 404.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from inference_core.errors import NotFoundError

STATIC_ROOT = Path(__file__).parent / "static"
INDEX = "index.html"
# In index.html, replaced by `assets/<version>` (relative, so the page works behind a stage path).
ASSETS_PLACEHOLDER = "__ASSETS__"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
INDEX_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=31536000, immutable"
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")


@dataclass(frozen=True)
class ConsoleAsset:
    body: bytes
    content_type: str
    cache_control: str
    etag: str


class ConsoleAssets:
    """The console's files under `root`, read once per process (they are small)."""

    def __init__(self, root: Path = STATIC_ROOT):
        self.root = root.resolve()
        self._cache: dict[str, ConsoleAsset] = {}

    @cached_property
    def version(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(p for p in self.root.rglob("*") if p.is_file()):
            digest.update(path.relative_to(self.root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()[:16]

    def index(self) -> ConsoleAsset:
        """The page itself, its asset URLs pointing at this version."""
        if INDEX not in self._cache:
            text = (self.root / INDEX).read_text(encoding="utf-8")
            body = text.replace(ASSETS_PLACEHOLDER, f"assets/{self.version}").encode()
            self._cache[INDEX] = ConsoleAsset(
                body=body,
                content_type=CONTENT_TYPES[".html"],
                cache_control=INDEX_CACHE,
                etag=_etag(body),
            )
        return self._cache[INDEX]

    def asset(self, version: str, path: str) -> ConsoleAsset:
        """A file of this version of the console; anything else is `NotFoundError`."""
        if version != self.version:
            raise _not_found()
        file = self._resolve(path)
        key = file.relative_to(self.root).as_posix()
        if key not in self._cache:
            body = file.read_bytes()
            self._cache[key] = ConsoleAsset(
                body=body,
                content_type=CONTENT_TYPES[file.suffix],
                cache_control=ASSET_CACHE,
                etag=_etag(body),
            )
        return self._cache[key]

    def _resolve(self, path: str) -> Path:
        segments = path.split("/")
        if not path or len(segments) > 4 or not all(_SEGMENT.fullmatch(s) for s in segments):
            raise _not_found()
        if ".." in segments or segments[-1] == INDEX:
            raise _not_found()
        candidate = self.root.joinpath(*segments)
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            raise _not_found() from None
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            raise _not_found()
        if resolved.suffix not in CONTENT_TYPES:
            raise _not_found()
        return resolved


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _not_found() -> NotFoundError:
    return NotFoundError("No such console page or file.", code="not_found")


@lru_cache(maxsize=1)
def get_console_assets() -> ConsoleAssets:
    return ConsoleAssets()
