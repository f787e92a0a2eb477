"""The HTML report opened in headless Chromium: it renders, shows every section, logs no error.

Needs ``/usr/bin/chromium`` (Debian package ``chromium``); the test installs nothing and skips
when it is absent. CI installs it with ``apt-get install -y chromium``.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from segchain.report import build_report, to_html

CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not installed (/usr/bin/chromium; apt-get install -y chromium)",
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
MONDAY = date(2024, 1, 1)


def tables() -> dict[str, pl.DataFrame]:
    """Every kind of table, small, with a hostile id among the customers."""
    customers = ["<script>alert(1)</script>", "c2", "c3", "c4", "c5", "c6"]
    segs = ["Champions", "Champions", "Loyal", "Loyal", "Lost", "At Risk"]
    segments = pl.DataFrame(
        {
            "customer_id": customers,
            "segment": segs,
            "segment_rank": [1, 1, 2, 2, 4, 3],
            "recency_days": [3, 9, 40, 55, 500, 210],
            "frequency": [30, 22, 9, 7, 1, 3],
            "monetary": [9000.0, 7000.0, 2100.0, 1800.0, 90.0, 400.0],
            "lat": [48.1, 52.5, 50.9, 53.6, 51.2, 49.4],
            "lon": [11.6, 13.4, 6.9, 10.0, 6.8, 8.7],
        }
    )
    weeks = [MONDAY + timedelta(weeks=i) for i in range(30)]
    orders = pl.DataFrame(
        {
            "order_id": [str(i) for i in range(30)],
            "order_date": weeks,
            "customer_id": ["c2"] * 30,
            "sku": ["A"] * 30,
            "quantity": [float(10 + i % 7) for i in range(30)],
            "amount": [float(100 + 10 * (i % 7)) for i in range(30)],
        }
    )
    future = [weeks[-1] + timedelta(weeks=i + 1) for i in range(8)]
    forecast = pl.DataFrame(
        {
            "unique_id": ["Champions/A"] * 8,
            "ds": future,
            "forecast": [13.0] * 8,
            "forecast-lo-80": [10.0] * 8,
            "forecast-hi-80": [16.0] * 8,
            "segment": ["Champions"] * 8,
            "sku": ["A"] * 8,
            "model": ["AutoETS"] * 8,
        }
    )
    backtest = pl.DataFrame(
        {
            "unique_id": ["Champions/A", "segment:Champions", "overall"],
            "scope": ["series", "segment", "overall"],
            "segment": ["Champions", "Champions", None],
            "mase": [0.7, 0.7, 0.7],
            "wape": [0.2, 0.2, 0.2],
            "baseline_mase": [1.0, 1.0, 1.0],
            "baseline_wape": [0.3, 0.3, 0.3],
        }
    )
    policy = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "segment": ["Champions", "Loyal"],
            "safety_stock": [12.0, 4.0],
            "reorder_point": [40.0, 9.0],
            "unit_cost": [3.0, 8.0],
            "inventory_value": [120.0, 64.0],
        }
    )
    assignments = pl.DataFrame(
        {
            "customer_id": customers,
            "segment": segs,
            "site_id": ["DC-1", "DC-2", "DC-1", "DC-2", "DC-1", "DC-1"],
            "distance_km": [120.0, 90.0, 200.0, 310.0, 40.0, 80.0],
            "sla_days": [1.0, 1.0, 2.0, 2.0, 5.0, 3.0],
            "sla_met": [True, True, True, False, True, True],
            "demand": [50.0, 40.0, 20.0, 15.0, 1.0, 4.0],
        }
    )
    sites = pl.DataFrame(
        {
            "site_id": ["DC-1", "DC-2"],
            "lat": [50.1, 52.4],
            "lon": [8.7, 13.1],
            "open": [True, True],
            "fixed_cost": [1000.0, 800.0],
            "demand_served": [75.0, 55.0],
        }
    )
    return {
        "orders": orders,
        "segments": segments,
        "forecast": forecast,
        "backtest": backtest,
        "policy": policy,
        "assignments": assignments,
        "sites": sites,
    }


def chromium(tmp_path: Path, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def console_errors(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "Uncaught" in line or "ERROR:CONSOLE" in line or "Failed to load resource" in line
    ]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The report page, its screenshot and Chromium's log, and the page's DOM."""
    tmp = tmp_path_factory.mktemp("browser")
    report = build_report(tables(), title="Browser check")
    page = tmp / "report.html"
    page.write_text(to_html(report), encoding="utf-8")
    shot = tmp / "shot.png"
    run = chromium(
        tmp,
        page,
        "--enable-logging=stderr",
        "--v=0",
        f"--screenshot={shot}",
        "--window-size=1280,4000",
    )
    dom = chromium(tmp, page, "--dump-dom")
    return report, shot, run, dom


def test_browser_screenshot_is_not_blank(rendered):
    _, shot, run, _ = rendered
    assert shot.exists(), run.stderr[-2000:]
    try:
        from PIL import Image

        with Image.open(shot) as im:
            colours = im.convert("RGB").getcolors(maxcolors=1 << 24)
        distinct = len(colours or [])
    except ImportError:
        import numpy as np
        from matplotlib.image import imread

        pixels = imread(shot)[:, :, :3].reshape(-1, 3)
        distinct = len(np.unique(pixels, axis=0))
    # Text, bars, lines and shading: a rendered page has hundreds of colours, a blank one 1.
    assert distinct > 100


def test_browser_dom_has_every_section_heading(rendered):
    report, _, _, dom = rendered
    assert dom.returncode == 0, dom.stderr[-2000:]
    headings = [s.title for s in report.sections] + ["About this report"]
    assert len(report.sections) == 7  # the actions, then one per stage
    for title in headings:
        assert f"<h2>{title}</h2>" in dom.stdout
    # Each chart drawn twice: for a desktop and for a phone.
    assert dom.stdout.count("<svg") == 2 * len(report.charts())
    assert "<script" not in dom.stdout


def test_browser_logs_no_console_error(rendered):
    _, _, run, _ = rendered
    assert console_errors(run.stderr) == []


def test_browser_console_check_catches_a_script_error(tmp_path):
    # The check above must be able to fail: a page that throws is caught.
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>throw new Error('boom')</script>")
    run = chromium(tmp_path, page, "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert any("boom" in line for line in console_errors(run.stderr)), run.stderr[-2000:]


# Headless Chromium will not make its window narrower than 500 px, so the page is measured in
# an iframe of the width wanted: its media queries see the iframe's width, as a phone's would.
PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" style="width:WIDTHpx;height:900px;border:0" srcdoc="PAGE"></iframe>
<script>
document.getElementById("f").addEventListener("load", () => {
  const win = document.getElementById("f").contentWindow;
  const doc = win.document;
  const out = {width: win.innerWidth, page: doc.documentElement.scrollWidth, texts: []};
  for (const svg of doc.querySelectorAll("figure svg")) {
    const box = svg.getBoundingClientRect();
    if (!box.width) continue;  // the other drawing of the chart, hidden at this width
    const scale = box.width / svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll("text")) {
      out.texts.push([t.textContent, parseFloat(win.getComputedStyle(t).fontSize) * scale]);
    }
  }
  const wraps = [...doc.querySelectorAll(".table-wrap")];
  out.tables = wraps.map((w) => [w.clientWidth, w.scrollWidth, win.getComputedStyle(w).overflowX]);
  const pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script></body></html>
"""


def measured(tmp_path: Path, page: str, width: int, probe_page: str | None = None) -> dict:
    """What the browser drew of ``page`` at ``width``, as the probe page's script measures it
    (``probe_page``: another probe, with WIDTH and PAGE where this one has them)."""
    import html
    import json
    import re

    probe = tmp_path / f"probe-{width}.html"
    # The report has no script; the probe page around it measures what the browser drew.
    probe.write_text(
        (probe_page or PROBE)
        .replace("WIDTH", str(width))
        .replace("PAGE", html.escape(page, quote=True)),
        encoding="utf-8",
    )
    run = chromium(
        tmp_path,
        probe,
        "--dump-dom",
        "--window-size=1280,1000",
        "--virtual-time-budget=10000",
    )
    found = re.search(r'<pre id="measure">(.*?)</pre>', run.stdout, flags=re.S)
    assert found is not None, run.stderr[-2000:]
    return json.loads(html.unescape(found.group(1)))


def test_browser_at_390px_chart_text_is_readable_and_tables_scroll_in_their_box(tmp_path):
    page = to_html(build_report(tables(), title="Phone check"))
    m = measured(tmp_path, page, 390)
    assert m["width"] == 390
    # Nothing makes the page wider than the phone: wide tables scroll inside their box.
    assert m["page"] <= 390
    assert all(overflow == "auto" for _, _, overflow in m["tables"])
    sizes = [size for text, size in m["texts"] if text.strip()]
    assert sizes, "no chart text measured"
    assert min(sizes) >= 9.0, sorted(m["texts"], key=lambda t: t[1])[:5]


def test_browser_at_1280px_shows_the_desktop_charts(tmp_path):
    # The check above must be able to fail: the desktop drawing at phone width is too small.
    page = to_html(build_report(tables(), title="Desktop check"))
    wide = measured(tmp_path, page, 1280)
    assert min(size for text, size in wide["texts"] if text.strip()) >= 9.0
    forced = page.replace(".chart-wide { display: none; }", "").replace(
        ".chart-phone { display: block; }", ""
    )
    narrow = measured(tmp_path, forced, 390)
    assert min(size for text, size in narrow["texts"] if text.strip()) < 9.0
