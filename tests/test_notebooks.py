"""The notebooks run end to end on the real Wuhan data (so they cannot rot), and what
they show works offline: no output links a CDN, the maps are the inlined offline
pages, the figures are inline images, and the closing conclusion is printed."""

import html
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))

#: Hosts folium (and Bootstrap/Font Awesome) load their assets from.
CDN_HOSTS = ("cdn.jsdelivr.net", "code.jquery.com", "cdnjs.cloudflare.com", "netdna.bootstrapcdn.com",
             "maxcdn.bootstrapcdn.com", "stackpath.bootstrapcdn.com", "unpkg.com", "ajax.googleapis.com",
             "use.fontawesome.com", "rawcdn.githack.com")
_SRCDOC = re.compile(r'<iframe\b[^>]*\bsrcdoc="([^"]*)"', re.S)


def cdn_hosts() -> set[str]:
    """The fixed list plus the host of every URL circles vendors (in case folium adds one)."""
    from circles import _vendor

    urls = list(_vendor.assets_by_url()) + list(_vendor.generated_by_url())
    return set(CDN_HOSTS) | {re.sub(r"^(?:https?:)?//([^/]+)/.*$", r"\1", u) for u in urls}


def output_texts(nb) -> list[str]:
    """Every text an executed notebook holds in its outputs (streams, errors, every MIME type but images)."""
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                texts.append(out["text"])
            texts += list(out.get("traceback", []))
            for mime, value in out.get("data", {}).items():
                if not mime.startswith("image/"):
                    texts.append(value if isinstance(value, str) else str(value))
    return texts


def offline_problems(texts: list[str]) -> list[str]:
    """CDN hosts mentioned anywhere, and resources a browser would fetch from the
    internet in any HTML output or embedded page (``srcdoc`` unescaped)."""
    from circles.outputs.webmap import find_online_resources

    hosts = cdn_hosts()
    problems = []
    for text in texts:
        pages = [text] + [html.unescape(doc) for doc in _SRCDOC.findall(text)]
        for page in pages:
            problems += [f"CDN host {h}" for h in hosts if h in page]
            problems += [f"fetches {u}" for u in find_online_resources(page)]
    return sorted(set(problems))


def test_offline_check_catches_folium_default_display():
    """The check fails on what the notebooks showed before: folium's own display of a map."""
    import folium

    assert offline_problems([folium.Map(location=[30.48, 114.52], tiles=None)._repr_html_()])


def test_show_map_is_offline_and_inlined():
    import folium

    from circles.outputs.notebook import map_html, show_map

    m = folium.Map(location=[30.48, 114.52], tiles=None, zoom_start=14)
    folium.Marker([30.48, 114.52], tooltip="光谷").add_to(m)
    shown = show_map(m, height=400)._repr_html_()
    assert offline_problems([shown]) == []
    (doc,) = _SRCDOC.findall(shown)
    page = html.unescape(doc)
    assert page == map_html(m)
    assert "<script>/* leaflet" in page and "L.map(" in page  # Leaflet itself is inside the page
    assert "height:400px" in shown and "光谷" in page


def test_show_map_rejects_other_objects():
    from circles.errors import InputError
    from circles.outputs.notebook import map_html

    with pytest.raises(InputError, match="folium map or a CoverageResult"):
        map_html("map.html")


def check_notebook_01_statements(streams: str) -> None:
    """What notebook 01 prints about no data and coverage says what the result says."""
    # categories in the input but all outside the study area are not "missing from the input" (the Weibo
    # file holds 16 groceries and 47 clinics, all far outside Optics Valley); absent ones are said to be absent
    assert "missing from the input" not in streams
    for cat in ("grocery", "primary_care", "culture"):
        assert re.search(rf"{cat}: all \d+ in the input lie outside the study area", streams), cat
    for cat in ("kindergarten", "ambulance_station", "elderly_care"):
        assert f"{cat}: none in the input" in streams, cat
    # cells not covered are split as the summary splits them; people not covered = population - covered
    m = re.search(r"public_activity_10\s+(\d+) cells uncovered and (\d+) partial; people not covered: "
                  r"([\d,]+) of ([\d,]+) adults 20\+", streams)
    assert m, "uncovered/partial line not printed"
    assert "units not covered" not in streams


def check_notebook_02_statements(streams: str) -> None:
    """Notebook 02 does not present one of many tied candidates as the best site, and presents the exact optimum."""
    m = re.search(r"emergency_medical: (\d+) of (\d+) candidates tie at ([\d,]+) people", streams)
    assert m and int(m.group(1)) > 1, "ties among ambulance candidates not reported"
    assert "emergency_medical: the first site to examine" not in streams
    assert "emergency_medical: there is no single best first site" in streams
    assert "SiteSelection(circle='elderly_care_15', method='exact'" in streams
    m = re.search(r"exact optimum \(Optimal\) ([\d,.]+) people; greedy ([\d,.]+) \(gap ([\d,.-]+)\)",
                  streams.split("SiteSelection(circle='elderly_care_15'")[1])
    assert m, "elderly care: exact optimum and greedy's gap not printed"
    exact, greedy = (float(g.replace(",", "")) for g in m.groups()[:2])
    assert exact >= greedy - 1e-6


def check_notebook_03_statements(streams: str) -> None:
    """Notebook 03 counts the verdicts, writes the four report files and closes with the city rows of targets.csv."""
    m = re.search(r"(\d+) target rows: (\d+) met, (\d+) not met, (\d+) no data", streams)
    assert m and int(m.group(1)) == sum(int(g) for g in m.groups()[1:]), "verdict counts not printed or not adding up"
    assert "circle_public_activity_10: not met" in streams  # a quarter of the people, far below 90 %
    assert re.search(r"public_activity_10 \(city\): \d+% now, target 90%", streams), "the city gap not printed"
    for name in ("targets.csv", "gap_sites.csv", "report.html", "report.pdf"):
        assert f": {name} (" in streams, name
    closing = streams.split("city rows of targets.csv:")[-1]
    assert "circle_public_activity_10" in closing and "ambulance_stations" in closing


def test_notebooks_state_the_policy_station_count():
    """The ambulance station count the notebooks mention is the policy's (about 140 急救站点), and the stale
    wording found by QA is gone."""
    import nbformat

    from circles import load_policy

    clause = load_policy("wuhan-2022").circle("emergency_medical").clause
    (count,) = re.findall(r"about (\d+) emergency stations", clause)
    for name in NAMES:
        source = "\n".join(c.source for c in nbformat.read(NOTEBOOKS / name, as_version=4).cells)
        assert "0 % or empty" not in source
        stated = re.findall(r"(\d+)\s+(?:ambulance stations|急救站点)", source)
        stated += re.findall(r"急救站点[^\d\n]{0,20}?about (\d+)", source)
        assert all(n == count for n in stated), (name, stated, count)


@pytest.mark.wuhan
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_offline(name, wuhan_dir):
    import nbclient
    import nbformat

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors

    texts = output_texts(nb)
    assert offline_problems(texts) == []
    maps = [html.unescape(doc) for t in texts if "data-circles-offline-map" in t for doc in _SRCDOC.findall(t)]
    assert maps, "no offline map embedded"
    for page in maps:
        assert "<script>/* leaflet" in page and "L.map(" in page  # the map's assets are inlined

    streams = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", [])
                      if o.get("output_type") == "stream" and o.get("name") == "stdout")
    if name.startswith("01_"):
        check_notebook_01_statements(streams)
    elif name.startswith("02_"):
        check_notebook_02_statements(streams)
    else:
        check_notebook_03_statements(streams)
    if name.startswith("01_"):
        images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
        assert images, "no static figure shown inline"
        # the elderly-care circle is counted in residents 65+, never in all adults
        assert "residents 65+" in streams
        assert not re.search(r"elderly_care_15 .*adults 20\+", streams)
        assert "strongly connected pieces" in streams  # the network's components are explained
        assert "NOT MEASURABLE" in streams  # the conclusion is printed
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and "next" in last.source.lower()  # ends with what to do next


@pytest.mark.browser
def test_show_map_renders_offline_in_chromium(tmp_path):
    """What a notebook shows: the map draws inside its iframe with every request off the network blocked."""
    import sys

    import folium

    from circles.outputs.notebook import show_map

    sys.path.insert(0, str(Path(__file__).parent))
    from browser import chromium_page, require_chromium

    require_chromium()
    m = folium.Map(location=[30.485, 114.52], tiles=None, zoom_start=15)
    folium.Marker([30.485, 114.52], tooltip="光谷").add_to(m)  # a Font Awesome / awesome-markers icon
    folium.PolyLine([[30.48, 114.51], [30.49, 114.53]], color="red").add_to(m)
    page = tmp_path / "notebook_output.html"
    page.write_text("<!doctype html><html><head><meta charset='utf-8'></head><body>"
                    + show_map(m, height=400)._repr_html_() + "</body></html>", encoding="utf-8")
    with chromium_page(page, settle_ms=800) as session:
        inner = "document.querySelector('iframe').contentWindow"
        leaflet = session.eval(f"typeof {inner}.L !== 'undefined'")
        containers = session.eval(f"{inner}.document.querySelectorAll('.leaflet-container').length")
        lines = session.eval(f"{inner}.document.querySelectorAll('path.leaflet-interactive').length")
        markers = session.eval(f"{inner}.document.querySelectorAll('.leaflet-marker-icon').length")
        session.page.screenshot(path=str(tmp_path / "notebook_map.png"))
    report = session.report
    assert report.blocked_requests == [] and report.failed_requests == [], report.summary()
    assert report.page_errors == [] and report.console_errors == [], report.summary()
    assert leaflet and containers == 1 and lines >= 1 and markers == 1
