"""A self-contained HTML report (tables, text, PNG plots embedded as base64) and its JSON twin.

The HTML needs no network and no files beside it: styles are inline and every image is a
``data:image/png;base64`` URI, so ``report.html`` can be mailed or archived on its own.
``report.json`` holds the same numbers for programs (tests, CI dashboards).

Examples
--------
>>> import tempfile, pathlib
>>> report = Report("demo")
>>> section = report.section("Numbers", "Two rows.")
>>> section.table(["x", "x²"], [[1, 1], [2, 4]])
>>> report.data["squares"] = {"1": 1, "2": 4}
>>> html_path, json_path = report.write(pathlib.Path(tempfile.mkdtemp()))
>>> '<td class="num">4</td>' in html_path.read_text(), json_path.name
(True, 'report.json')
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqlab.io import atomic_write

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
.table-caption { color: #555; font-size: 0.95em; margin: 1em 0 0.2em; }
.table-caption + table { margin-top: 0; } details { margin: 0.3em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #ddd; }
.caption { color: #555; font-size: 0.9em; } pre { background: #f7f7f7; padding: 0.6em; }
.finding { background: #f4f8fb; border-left: 4px solid #4a7fb0; padding: 0.4em 0.8em; }
.ok { color: #1a7f37; } .no { color: #c0392b; }
"""


def format_cell(value: Any) -> str:
    """How a number looks in every table: 4 significant digits, scientific when tiny or huge.

    Examples
    --------
    >>> [format_cell(v) for v in (0.16666, 3e-9, 12345678.0, 7, 929589, None, "x", float("inf"))]
    ['0.1667', '3e-09', '1.235e+07', '7', '929,589', '—', 'x', 'inf']
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    if isinstance(value, int) and abs(value) >= 1000:
        return f"{value:,}"  # 48,748,743 reads at a glance, 48748743 does not
    return str(value)


def format_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table with aligned columns, for the terminal.

    Examples
    --------
    >>> print(format_table(["cell", "loss"], [["lstm", 0.01], ["rnn-tanh", 0.17]]))
    cell      loss
    --------  ----
    lstm      0.01
    rnn-tanh  0.17
    """
    cells = [[str(h) for h in headers]] + [[format_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def json_safe(value: Any) -> Any:
    """Make ``value`` strict JSON, recursively: numpy scalars and arrays become Python numbers
    and lists; NaN and ±inf (not valid JSON) become the strings "nan", "inf", "-inf"."""
    if isinstance(value, np.generic | np.ndarray):
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented, strictly valid JSON, atomically."""
    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(json_safe(data), f, ensure_ascii=False, indent=1, allow_nan=False)
        f.write("\n")


def _table_html(headers: list[str], rows: list[list[Any]]) -> str:
    """An HTML table; numbers (and the dash of a missing one) are right-aligned, text is
    left-aligned."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{html.escape(format_cell(v))}</td>'
            if v is None or (isinstance(v, int | float | np.number) and not isinstance(v, bool))
            else f"<td>{html.escape(format_cell(v))}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


@dataclass
class Section:
    """One titled part of the report: a list of HTML blocks in order."""

    title: str
    intro: str = ""
    blocks: list[str] = field(default_factory=list)

    def text(self, text: str) -> None:
        """A paragraph of plain text."""
        self.blocks.append(f"<p>{html.escape(text)}</p>")

    def preformatted(self, text: str) -> None:
        """Text kept verbatim (console output, word lists)."""
        self.blocks.append(f"<pre>{html.escape(text)}</pre>")

    def finding(self, label: str, text: str) -> None:
        """A highlighted paragraph that starts with ``label`` in bold (e.g. what a run showed)."""
        self.blocks.append(
            f'<p class="finding"><strong>{html.escape(label)}</strong> {html.escape(text)}</p>'
        )

    def table(self, headers: list[str], rows: list[list[Any]], caption: str = "") -> None:
        """A table with its caption above it; numbers go through :func:`format_cell` as in
        the terminal."""
        cap = f'<p class="table-caption">{html.escape(caption)}</p>' if caption else ""
        self.blocks.append(cap + _table_html(headers, rows))

    def folded_table(self, summary: str, headers: list[str], rows: list[list[Any]]) -> None:
        """A table folded away under ``summary`` (a click opens it): reference figures."""
        self.blocks.append(
            f"<details><summary>{html.escape(summary)}</summary>"
            f"{_table_html(headers, rows)}</details>"
        )

    def image(self, png: Path | bytes, caption: str = "") -> None:
        """A PNG (a file or its bytes), embedded in the page as base64."""
        data = png if isinstance(png, bytes) else Path(png).read_bytes()
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        cap = f'<p class="caption">{html.escape(caption)}</p>' if caption else ""
        self.blocks.append(f'<img src="{uri}" alt="{html.escape(caption)}">{cap}')

    def checks(self, checks: dict[str, bool]) -> None:
        """The claims an experiment tested, each marked as holding or not."""
        items = "".join(
            f'<li class="{"ok" if ok else "no"}">{"✔" if ok else "✘"} {html.escape(name)}</li>'
            for name, ok in checks.items()
        )
        self.blocks.append(f"<ul>{items}</ul>")

    def render(self) -> str:
        intro = f"<p>{html.escape(self.intro)}</p>" if self.intro else ""
        return f"<h2>{html.escape(self.title)}</h2>{intro}" + "\n".join(self.blocks)


@dataclass
class Report:
    """Sections for the HTML page plus ``data``, the numbers written to ``report.json``."""

    title: str
    sections: list[Section] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def section(self, title: str, intro: str = "") -> Section:
        """Append a new section and return it for filling."""
        section = Section(title, intro)
        self.sections.append(section)
        return section

    def move_to_end(self, section: Section) -> None:
        """Put ``section`` after all the others (reference material after the results)."""
        self.sections.remove(section)
        self.sections.append(section)

    def write(self, out_dir: Path) -> tuple[Path, Path]:
        """Write ``report.html`` and ``report.json`` into ``out_dir``; return both paths."""
        out_dir = Path(out_dir)
        created = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        toc = "".join(
            f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>'
            for i, s in enumerate(self.sections)
        )
        body = "\n".join(
            f'<section id="s{i}">{s.render()}</section>' for i, s in enumerate(self.sections)
        )
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1><p class='caption'>generated {created}</p>"
            f"<ol>{toc}</ol>{body}</body></html>\n"
        )
        html_path, json_path = out_dir / "report.html", out_dir / "report.json"
        with atomic_write(html_path, "w", encoding="utf-8") as f:
            f.write(page)
        write_json(json_path, {"title": self.title, "created": created, **self.data})
        return html_path, json_path
