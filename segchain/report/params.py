"""The report's options, resolved once and used for both the call and the provenance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from segchain.errors import UsageError

DEFAULT_TITLE = "segchain report"
HTML_SUFFIXES = (".html", ".htm")
MD_SUFFIXES = (".md", ".markdown")
# How the report is written: one HTML page, Markdown beside its charts, Markdown on stdout, or a
# summary on a terminal.
LAYOUTS = ("html", "md", "-", "terminal")


@dataclass(frozen=True)
class ReportParams:
    """The options of ``segchain report`` (command line, environment, default).

    ``layout`` follows from ``output``: ``html`` (.html), ``md`` (.md, charts beside it), ``-``
    (Markdown on stdout) or ``terminal`` (no -o and stdout is a terminal). The same object
    drives the rendering and is recorded in the report's provenance, so the two cannot disagree.
    """

    inputs: tuple[str, ...] = ("-",)
    output: str | None = None
    title: str = DEFAULT_TITLE
    layout: str = "-"
    sheet: str | None = None
    """The sheet the workbooks among the inputs were read at, when one was chosen (``--sheet``,
    ``SEGCHAIN_SHEET``, the config's ``[orders] sheet``); recorded only then."""
    environment: tuple[tuple[str, str], ...] = ()
    """The variables a raw export among the inputs was read with (``SEGCHAIN_DATE_FORMAT``,
    ``SEGCHAIN_RETURNS``...: report has no options for them), by name; recorded only then."""

    @classmethod
    def resolve(
        cls,
        *,
        inputs: Sequence[str] | None,
        output: str | None,
        title: str | None,
        stdout_is_terminal: bool,
    ) -> ReportParams:
        """Every option checked before any input is read.

        Raises:
            UsageError: stdin given twice, or an output that is neither .html nor .md nor '-'.
        """
        sources = tuple(inputs or ("-",))
        if sources.count("-") > 1:
            raise UsageError("stdin ('-') can be given only once among the inputs")
        return cls(
            inputs=sources,
            output=output,
            title=title or DEFAULT_TITLE,
            layout=layout_of(output, stdout_is_terminal=stdout_is_terminal),
        )

    def as_dict(self) -> dict[str, Any]:
        """The provenance's ``params``: every option but where the report is written, so the
        same inputs give the same bytes under any file name (a cron job's dated names)."""
        unset = {"output", *(("sheet",) if self.sheet is None else ()), "environment"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in unset} | (
            {"environment": dict(self.environment)} if self.environment else {}
        )


def layout_of(output: str | None, *, stdout_is_terminal: bool) -> str:
    """``html``, ``md``, ``-`` (Markdown on stdout) or ``terminal`` for an -o value."""
    if output is None:
        return "terminal" if stdout_is_terminal else "-"
    if output == "-":
        return "-"
    lower = output.lower()
    if lower.endswith(HTML_SUFFIXES):
        return "html"
    if lower.endswith(MD_SUFFIXES):
        return "md"
    raise UsageError(
        f"-o {output}: a report is written as .html or .md",
        hint="use -o report.html, -o report.md, or -o - for Markdown on stdout",
    )
