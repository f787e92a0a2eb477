"""The network map's legend names an unfilled triangle as a site not open: network's candidates
it did not open were drawn as "closed site" (Superstore's 8 candidates, 5 of them never
opened, decision `unused`), while the sites table says they were never open."""

from __future__ import annotations

from test_report_actions import sites_case

from segchain.report import build_report, to_html


def test_report_map_says_a_site_not_open_is_not_open() -> None:
    tables, meta = sites_case()  # C is a candidate not opened
    assert not tables["sites"].filter(tables["sites"]["site_id"] == "C")["open"].item()
    page = to_html(build_report(tables, metadata=meta))
    assert "△ site not open" in page
    assert "closed site" not in page
