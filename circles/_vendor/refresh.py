"""Re-download the vendored web-map assets with ``npm pack`` and rewrite MANIFEST.json.

Run from the repository root (needs ``npm`` and the npm registry; users of circles
never run this — the vendored files are committed)::

    python -m circles._vendor.refresh            # re-download, rebuild, rewrite MANIFEST.json
    python -m circles._vendor.refresh --check    # verify committed files against MANIFEST.json
                                                 # and folium's current CDN list (no network)

What it does
------------
folium (``folium.Map.default_js`` / ``default_css``) puts ten CDN ``<script src>`` /
``<link href>`` tags in every map.  Each is matched by one entry of :data:`RECIPES`,
which names the npm package that ships the same code, the file to take and how to
make it self-contained:

* CSS ``url(...)`` references to images and fonts are replaced by base64 ``data:``
  URIs (fonts: woff2 only), so the inlined CSS never asks for another file;
* Font Awesome keeps only the "Font Awesome 6 Free" solid and regular faces (the
  brands face, the v4-compatibility face and the duplicate v4/v5 family aliases
  are dropped to keep each HTML file near 1 MB);
* the Bootstrap 3 glyphicons stylesheet (served by folium from a CDN-only file) is
  extracted from ``bootstrap@3.4.1``'s ``dist/css/bootstrap.css``;
* ``leaflet.awesome-markers`` 2.0.2 is on npm only as the cdnjs mirror
  ``drmonty-leaflet-awesome-markers@2.0.2`` (no licence file inside); its MIT licence
  text is taken from the upstream ``leaflet.awesome-markers@2.0.4`` package (same
  author, byte-identical JavaScript);
* folium's own ``leaflet.awesome.rotate.min.css`` is not on npm: circles generates
  the equivalent ``.fa-rotate-N`` rules at render time (see ``circles.webmap``).

A folium upgrade that adds or changes a CDN URL makes ``--check`` (and the tests)
fail, and :func:`circles.webmap.to_offline_html` refuses to write HTML with a CDN
URL it cannot inline.  Add or update a recipe here, re-run, and commit the result.
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent
MANIFEST = VENDOR_DIR / "MANIFEST.json"

# npm packages to fetch; key -> spec.
PACKAGES: dict[str, str] = {
    "leaflet": "leaflet@1.9.3",
    "jquery": "jquery@3.7.1",
    "bootstrap": "bootstrap@5.2.2",
    "bootstrap3": "bootstrap@3.4.1",
    "fontawesome": "@fortawesome/fontawesome-free@6.2.0",
    "awesome_markers": "drmonty-leaflet-awesome-markers@2.0.2",
    "awesome_markers_licence": "leaflet.awesome-markers@2.0.4",
}

# One recipe per CDN URL that folium 0.20 / branca put in a map.
#   name      folium's resource name (Map.default_js / default_css)
#   cdn       the exact URL folium emits
#   pkg       PACKAGES key; src = file inside the tarball ("package/..." stripped)
#   out       vendored file, relative to circles/_vendor
#   build     how to turn src into out (function name below)
#   licence   (PACKAGES key, file inside tarball, vendored licence file)
RECIPES: list[dict] = [
    dict(name="leaflet", type="js",
         cdn="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",
         pkg="leaflet", src="dist/leaflet.js", out="leaflet/leaflet.js", build="copy",
         licence=("leaflet", "LICENSE", "leaflet/LICENSE"), spdx="BSD-2-Clause"),
    dict(name="jquery", type="js",
         cdn="https://code.jquery.com/jquery-3.7.1.min.js",
         pkg="jquery", src="dist/jquery.min.js", out="jquery/jquery.min.js", build="copy",
         licence=("jquery", "LICENSE.txt", "jquery/LICENSE.txt"), spdx="MIT"),
    dict(name="bootstrap", type="js",
         cdn="https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js",
         pkg="bootstrap", src="dist/js/bootstrap.bundle.min.js",
         out="bootstrap/bootstrap.bundle.min.js", build="copy",
         licence=("bootstrap", "LICENSE", "bootstrap/LICENSE"), spdx="MIT"),
    dict(name="awesome_markers", type="js",
         cdn="https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js",
         pkg="awesome_markers", src="js/leaflet.awesome-markers.min.js",
         out="leaflet.awesome-markers/leaflet.awesome-markers.min.js", build="copy",
         licence=("awesome_markers_licence", "LICENSE", "leaflet.awesome-markers/LICENSE"),
         spdx="MIT"),
    dict(name="leaflet_css", type="css",
         cdn="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",
         pkg="leaflet", src="dist/leaflet.css", out="leaflet/leaflet.css", build="leaflet_css",
         licence=("leaflet", "LICENSE", "leaflet/LICENSE"), spdx="BSD-2-Clause"),
    dict(name="bootstrap_css", type="css",
         cdn="https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css",
         pkg="bootstrap", src="dist/css/bootstrap.min.css", out="bootstrap/bootstrap.min.css",
         build="copy", licence=("bootstrap", "LICENSE", "bootstrap/LICENSE"), spdx="MIT"),
    dict(name="glyphicons_css", type="css",
         cdn="https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css",
         pkg="bootstrap3", src="dist/css/bootstrap.css",
         out="bootstrap3-glyphicons/bootstrap-3-glyphicons.css", build="glyphicons_css",
         licence=("bootstrap3", "LICENSE", "bootstrap3-glyphicons/LICENSE"), spdx="MIT"),
    dict(name="awesome_markers_font_css", type="css",
         cdn="https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css",
         pkg="fontawesome", src="css/all.min.css", out="fontawesome-free/all.min.css",
         build="fontawesome_css",
         licence=("fontawesome", "LICENSE.txt", "fontawesome-free/LICENSE.txt"),
         spdx="CC-BY-4.0 AND OFL-1.1 AND MIT"),
    dict(name="awesome_markers_css", type="css",
         cdn="https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css",
         pkg="awesome_markers", src="css/leaflet.awesome-markers.css",
         out="leaflet.awesome-markers/leaflet.awesome-markers.css", build="awesome_markers_css",
         licence=("awesome_markers_licence", "LICENSE", "leaflet.awesome-markers/LICENSE"),
         spdx="MIT"),
]

# Not downloaded: handled by circles.webmap itself.
GENERATED: list[dict] = [
    dict(name="awesome_rotate_css", type="css",
         cdn="https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css",
         generator="rotate_css",
         notes="folium's own stylesheet (not on npm): the .fa-rotate-N rules the map "
               "actually uses are generated at render time by circles.webmap."),
]

# Extra vendored file inserted right after leaflet.js: points L.Icon.Default at
# data: URIs (Leaflet otherwise derives the icon path from leaflet.css's url()
# and would request images/marker-icon.png relative to the HTML file).
EXTRA = dict(name="leaflet_default_icon", type="js", insert_after="leaflet",
             pkg="leaflet", out="leaflet/leaflet-default-icon.js", build="leaflet_icon_js",
             licence=("leaflet", "LICENSE", "leaflet/LICENSE"), spdx="BSD-2-Clause")


# --------------------------------------------------------------------------- helpers
def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _css_urls(css: str) -> list[str]:
    return [m.group(2) for m in re.finditer(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""", css)]


def check_self_contained_css(css: str, where: str) -> None:
    """Raise if a stylesheet still refers to anything but data: URIs or fragments."""
    bad = [u for u in _css_urls(css) if not (u.startswith("data:") or u.startswith("#"))]
    if bad or re.search(r"@import\b", css):
        raise RuntimeError(f"{where}: stylesheet is not self-contained; remaining url(): {bad}")


def _npm_pack(spec: str, dest: Path) -> dict:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found on PATH; refreshing vendored assets needs npm")
    out = subprocess.run(
        [npm, "pack", "--json", "--pack-destination", str(dest), spec],
        check=True, capture_output=True, text=True,
    )
    info = json.loads(out.stdout)[0]
    root = dest / info["filename"].removesuffix(".tgz")
    root.mkdir()
    with tarfile.open(dest / info["filename"]) as tar:
        tar.extractall(root, filter="data")
    # npm tarballs hold one top-level folder, usually "package"
    (top,) = [p for p in root.iterdir()]
    return {"spec": spec, "name": info["name"], "version": info["version"],
            "integrity": info["integrity"], "root": top}


# --------------------------------------------------------------------------- builders
def _build_copy(pkg: dict, recipe: dict) -> bytes:
    return (pkg["root"] / recipe["src"]).read_bytes()


def _build_leaflet_css(pkg: dict, recipe: dict) -> bytes:
    css = (pkg["root"] / recipe["src"]).read_text("utf-8")
    img = pkg["root"] / "dist"

    def repl(m: re.Match) -> str:
        ref = m.group(2)
        if ref.startswith("#"):
            return m.group(0)
        return f'url("{_data_uri((img / ref).read_bytes(), "image/png")}")'

    css = re.sub(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""", repl, css)
    css = ("/* leaflet 1.9.3 dist/leaflet.css; images inlined as data: URIs by "
           "circles._vendor.refresh */\n" + css)
    check_self_contained_css(css, recipe["out"])
    return css.encode("utf-8")


def _build_leaflet_icon_js(pkg: dict, recipe: dict) -> bytes:
    img = pkg["root"] / "dist" / "images"
    uris = {k: _data_uri((img / f).read_bytes(), "image/png") for k, f in
            [("iconUrl", "marker-icon.png"), ("iconRetinaUrl", "marker-icon-2x.png"),
             ("shadowUrl", "marker-shadow.png")]}
    js = (
        "/* circles: Leaflet 1.9.3 default marker images (BSD-2-Clause, see LICENSE) as data: "
        "URIs, so markers need no image files. */\n"
        "(function(){if(!window.L||!L.Icon||!L.Icon.Default){return;}"
        "L.Icon.Default.imagePath='';"
        f"L.Icon.Default.mergeOptions({json.dumps(uris, separators=(',', ':'))});}})();\n"
    )
    return js.encode("utf-8")


def _build_glyphicons_css(pkg: dict, recipe: dict) -> bytes:
    css = (pkg["root"] / recipe["src"]).read_text("utf-8")
    start = css.rfind("@font-face", 0, css.index('"Glyphicons Halflings"'))
    last = css.rindex("\n.glyphicon-")
    end = css.index("}", last) + 1
    part = css[start:end]
    # sanity: every rule in the slice is the font-face or a .glyphicon rule
    selectors = re.findall(r"(?:^|})\s*([^{}]+?)\s*{", part)
    stray = [s for s in selectors if not (s.startswith("@font-face") or s.startswith(".glyphicon"))]
    if stray:
        raise RuntimeError(f"unexpected rules in bootstrap 3 glyphicon section: {stray[:5]}")
    woff2 = (pkg["root"] / "dist" / "fonts" / "glyphicons-halflings-regular.woff2").read_bytes()
    face = ('@font-face{font-family:"Glyphicons Halflings";'
            f'src:url({_data_uri(woff2, "font/woff2")}) format("woff2")}}')
    body = part[part.index("}") + 1:]
    body = re.sub(r"\s*\n\s*", "", body)  # light minification
    out = ("/*! Glyphicons Halflings rules extracted from Bootstrap v3.4.1 dist/css/bootstrap.css "
           "(MIT, see LICENSE) by circles._vendor.refresh; woff2 font inlined. */\n"
           + face + body + "\n")
    check_self_contained_css(out, recipe["out"])
    return out.encode("utf-8")


_FA_KEEP = {("Font Awesome 6 Free", "fa-regular-400.woff2"), ("Font Awesome 6 Free", "fa-solid-900.woff2")}


def _build_fontawesome_css(pkg: dict, recipe: dict) -> bytes:
    css = (pkg["root"] / recipe["src"]).read_text("utf-8")
    fonts = pkg["root"] / "webfonts"
    kept: list[str] = []

    def repl(m: re.Match) -> str:
        block = m.group(0)
        family = re.search(r'font-family:"([^"]+)"', block).group(1)
        woff2 = re.search(r"url\(\.\./webfonts/([^)]+\.woff2)\)", block).group(1)
        if (family, woff2) not in _FA_KEEP:
            return ""
        kept.append(woff2)
        src = f'src:url({_data_uri((fonts / woff2).read_bytes(), "font/woff2")}) format("woff2")'
        return re.sub(r"src:[^;}]+", src, block)

    css = re.sub(r"@font-face\{[^}]*\}", repl, css)
    if sorted(kept) != sorted(w for _, w in _FA_KEEP):
        raise RuntimeError(f"Font Awesome @font-face rules changed; kept {kept}")
    css += ("\n/* circles: only the Font Awesome 6 Free solid and regular woff2 faces are "
            "inlined; brands and v4-compatibility faces removed. */\n")
    check_self_contained_css(css, recipe["out"])
    return css.encode("utf-8")


def _build_awesome_markers_css(pkg: dict, recipe: dict) -> bytes:
    css = (pkg["root"] / recipe["src"]).read_text("utf-8")
    # drop the retina (@2x) sprite block: it would add ~90 kB of base64 to every map
    css, n = re.subn(r"@media[^{]*\{\s*\.awesome-marker\s*\{[^}]*\}\s*"
                     r"\.awesome-marker-shadow\s*\{[^}]*\}\s*\}", "", css)
    if n != 1:
        raise RuntimeError("leaflet.awesome-markers.css: retina @media block not found")
    img_dir = (pkg["root"] / recipe["src"]).parent

    def repl(m: re.Match) -> str:
        return f'url("{_data_uri((img_dir / m.group(2)).read_bytes(), "image/png")}")'

    css = re.sub(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""", repl, css)
    css = ("/* Leaflet.awesome-markers 2.0.2 (MIT, see LICENSE); sprites inlined as data: URIs, "
           "retina sprite dropped, by circles._vendor.refresh */\n" + css)
    check_self_contained_css(css, recipe["out"])
    return css.encode("utf-8")


_BUILDERS = {
    "copy": _build_copy,
    "leaflet_css": _build_leaflet_css,
    "leaflet_icon_js": _build_leaflet_icon_js,
    "glyphicons_css": _build_glyphicons_css,
    "fontawesome_css": _build_fontawesome_css,
    "awesome_markers_css": _build_awesome_markers_css,
}


# --------------------------------------------------------------------------- main steps
def folium_cdn_urls() -> dict[str, str]:
    """name -> URL of every JS/CSS resource a default ``folium.Map`` links to."""
    import folium

    return dict(list(folium.Map.default_js) + list(folium.Map.default_css))


def check_recipes_cover_folium() -> list[str]:
    known = {r["cdn"] for r in RECIPES} | {g["cdn"] for g in GENERATED}
    return [f"folium links {name} = {url}, which has no recipe in circles/_vendor/refresh.py"
            for name, url in folium_cdn_urls().items() if url not in known]


def refresh(vendor_dir: Path = VENDOR_DIR) -> dict:
    problems = check_recipes_cover_folium()
    if problems:
        raise RuntimeError("\n".join(problems))
    import branca
    import folium

    with tempfile.TemporaryDirectory(prefix="circles-vendor-") as tmp:
        tmp_path = Path(tmp)
        pkgs = {key: _npm_pack(spec, tmp_path) for key, spec in PACKAGES.items()}
        entries = []
        written_licences: set[str] = set()
        for recipe in RECIPES + [EXTRA]:
            pkg = pkgs[recipe["pkg"]]
            data = _BUILDERS[recipe["build"]](pkg, recipe)
            if recipe["type"] == "js" and re.search(rb"</script", data, re.I):
                raise RuntimeError(f"{recipe['out']} contains '</script' and cannot be inlined")
            if recipe["type"] == "css" and re.search(rb"</style", data, re.I):
                raise RuntimeError(f"{recipe['out']} contains '</style' and cannot be inlined")
            out = vendor_dir / recipe["out"]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            lic_pkg, lic_src, lic_out = recipe["licence"]
            if lic_out not in written_licences:
                (vendor_dir / lic_out).write_bytes((pkgs[lic_pkg]["root"] / lic_src).read_bytes())
                written_licences.add(lic_out)
            entry = {
                "name": recipe["name"],
                "type": recipe["type"],
                "package": pkg["name"],
                "version": pkg["version"],
                "npm_integrity": pkg["integrity"],
                "source": recipe.get("src"),
                "build": recipe["build"],
                "file": recipe["out"],
                "sha256": _sha256(data),
                "bytes": len(data),
                "replaces": recipe.get("cdn"),
                "licence": recipe["spdx"],
                "licence_file": lic_out,
                "licence_from": f"{pkgs[lic_pkg]['name']}@{pkgs[lic_pkg]['version']}/{lic_src}",
            }
            if "insert_after" in recipe:
                entry["insert_after"] = recipe["insert_after"]
            entries.append(entry)
    manifest = {
        "about": "Offline copies of the JS/CSS folium links from CDNs; inlined into HTML maps "
                 "by circles.webmap. Rebuild with `python -m circles._vendor.refresh`.",
        "generated_at": _dt.date.today().isoformat(),
        "folium_version": folium.__version__,
        "branca_version": branca.__version__,
        "assets": entries,
        "generated": GENERATED,
    }
    (vendor_dir / "MANIFEST.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m circles._vendor.refresh",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only verify committed files and folium coverage (no network)")
    args = parser.parse_args(argv)
    if args.check:
        from circles._vendor import verify

        problems = verify()
        for p in problems:
            print(p, file=sys.stderr)
        print("OK" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    manifest = refresh()
    total = sum(a["bytes"] for a in manifest["assets"])
    for a in manifest["assets"]:
        print(f"{a['package'] + '@' + a['version']:<44} {a['file']:<56} {a['bytes']:>9,d} B")
    print(f"total {total:,d} B -> {MANIFEST}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
