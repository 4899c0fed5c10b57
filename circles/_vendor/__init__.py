"""Vendored web-map assets (Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers).

The files beside this module are offline copies of the JavaScript and CSS that folium
links from CDNs; :mod:`circles.webmap` inlines them so HTML maps work with no network.
``MANIFEST.json`` lists, for each file, the npm package and version it came from, its
sha256, the CDN URL it replaces and its licence file.  Rebuild them with
``python -m circles._vendor.refresh`` (needs npm); check them with
``python -m circles._vendor.refresh --check``.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent

__all__ = ["VENDOR_DIR", "load_manifest", "assets_by_url", "generated_by_url",
           "read_asset", "verify"]


@lru_cache(maxsize=1)
def load_manifest() -> dict:
    """The parsed ``MANIFEST.json`` (cached; treat as read-only)."""
    path = VENDOR_DIR / "MANIFEST.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:  # a broken install: package data not shipped
        raise FileNotFoundError(
            f"{path} is missing: the circles installation lacks its vendored map assets "
            "(package data circles/_vendor/*). Reinstall circles, or run "
            "`python -m circles._vendor.refresh` in a source checkout."
        ) from exc


def assets_by_url() -> dict[str, dict]:
    """CDN URL -> manifest entry of the vendored file that replaces it."""
    return {a["replaces"]: a for a in load_manifest()["assets"] if a.get("replaces")}


def generated_by_url() -> dict[str, dict]:
    """CDN URL -> entry of an asset circles generates itself at render time."""
    return {g["cdn"]: g for g in load_manifest().get("generated", [])}


def assets_inserted_after(name: str) -> list[dict]:
    """Extra vendored files to insert right after the asset called ``name``."""
    return [a for a in load_manifest()["assets"] if a.get("insert_after") == name]


@lru_cache(maxsize=None)
def read_asset(file: str) -> str:
    """Text of a vendored file (path relative to ``circles/_vendor``)."""
    return (VENDOR_DIR / file).read_text(encoding="utf-8")


def verify() -> list[str]:
    """Problems with the vendored files: missing/changed files, missing licences, and
    folium CDN URLs no vendored or generated asset replaces.  Empty list = all good."""
    problems: list[str] = []
    manifest = load_manifest()
    for a in manifest["assets"]:
        path = VENDOR_DIR / a["file"]
        if not path.is_file():
            problems.append(f"{path}: missing (listed in MANIFEST.json)")
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != a["sha256"]:
            problems.append(f"{path}: sha256 {digest} differs from MANIFEST.json {a['sha256']}")
        if not (VENDOR_DIR / a["licence_file"]).is_file():
            problems.append(f"{VENDOR_DIR / a['licence_file']}: licence file missing")
    from circles._vendor.refresh import folium_cdn_urls

    covered = set(assets_by_url()) | set(generated_by_url())
    for name, url in folium_cdn_urls().items():
        if url not in covered:
            problems.append(
                f"folium links {name} = {url}, which is not vendored: add a recipe to "
                "circles/_vendor/refresh.py and run `python -m circles._vendor.refresh`"
            )
    return problems
