"""The page's pieces: escaped text, tables, inline PNG images and the one self-contained shell
(its style and the small table-sorting script inline: no network, no external file)."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;color:#c9d1e0}nav{padding:6px 28px;background:#e9ecf1;position:sticky;top:0}
nav a{margin-right:14px;color:#2855a5;text-decoration:none;font-size:14px}
main{padding:8px 28px 40px;max-width:1200px}section{background:#fff;border-radius:8px;padding:6px 20px 16px;
margin:16px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}h2{font-size:18px;border-bottom:1px solid #e3e6eb;padding-bottom:6px}
table{border-collapse:collapse;margin:8px 0;font-size:14px}th,td{padding:4px 10px;border-bottom:1px solid #eceef2;
text-align:left;vertical-align:top}th{background:#f1f3f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
th.sort{cursor:pointer}th.sort:after{content:" \\2195";color:#8a93a3}
th.sort[aria-sort=ascending]:after{content:" \\25B2";color:#1d2330}
th.sort[aria-sort=descending]:after{content:" \\25BC";color:#1d2330}tr.best td{background:#eaf6ea}
.verdict{font-size:16px;padding:8px 12px;border-radius:6px;background:#eef3fb;margin:8px 0}
.verdict.bad{background:#fdf0e7}.warn{background:#fff4e0;border-left:4px solid #e8a33d;padding:6px 10px;margin:6px 0}
.ok{background:#ebf6ec;border-left:4px solid #4caf50;padding:6px 10px;margin:6px 0}
.bar{display:inline-block;height:10px;background:#2855a5;vertical-align:middle}
img{max-width:100%;height:auto}figure{margin:8px 0;display:inline-block;vertical-align:top}
figcaption{font-size:13px;color:#5b6475}code,pre{font:13px ui-monospace,Menlo,Consolas,monospace;background:#f1f3f6}
pre{padding:8px 10px;overflow-x:auto}.scroll{overflow-x:auto}.muted{color:#5b6475;font-size:13px}
"""

# Click a header marked `sort` to order its table's rows by that column (numbers as numbers).
SCRIPT = """
function key(cell) {  // a number when the whole column reads as numbers; "-" (none) sorts last either way
  var text = cell.dataset.value || cell.textContent.trim();
  return text === "-" || text === "" ? null : text;
}
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th.sort").forEach(function (th, column) {
    function sort() {
      var body = table.tBodies[0], rows = Array.from(body.rows), up = th.getAttribute("aria-sort") !== "ascending";
      var numeric = rows.every(function (r) { var k = key(r.cells[column]); return k === null || !isNaN(Number(k)); });
      rows.sort(function (a, b) {
        var x = key(a.cells[column]), y = key(b.cells[column]);
        if (x === null || y === null) { return (x === null) - (y === null); }
        var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return up ? order : -order;
      });
      table.querySelectorAll("th.sort").forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      rows.forEach(function (row) { body.appendChild(row); });
    }
    th.tabIndex = 0;
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
    });
  });
});
"""


def esc(value: Any) -> str:
    """Text for the page, escaped."""
    return html.escape(str(value), quote=True)


def number(value: Any, digits: int = 4) -> str:
    """A metric as the page shows it: 4 significant decimals, `-` for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return esc(value)
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def setting(value: Any) -> str:
    """A setting as text: floats to 4 significant digits (a float32 0.001 is not 0.0010000000474974513)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def cell(value: Any, *, key: str | None = None) -> str:
    """A table cell; numbers right-aligned, `key` names the metric the browser tests read back."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        marked = f' data-metric="{esc(key)}" data-value="{value!r}"' if key else f' data-value="{value!r}"'
        return f'<td class="num"{marked}>{number(value)}</td>'
    if value is None:
        return "<td>-</td>"
    return f"<td>{value if isinstance(value, Raw) else esc(value)}</td>"


class Raw(str):
    """Markup already built (a bar, a link): put in a cell as it is."""


def table(head: Sequence[str], rows: Iterable[Sequence[Any]], *, sortable: bool = False,
          keys: Iterable[Sequence[str | None]] | None = None, marked: Sequence[bool] | None = None) -> str:
    """An HTML table; `keys[i][j]` tags a number cell for the tests, `marked[i]` highlights a row."""
    rows = [list(r) for r in rows]
    keys = list(keys) if keys is not None else [[None] * len(r) for r in rows]
    marked = list(marked) if marked is not None else [False] * len(rows)
    header = "".join(f'<th{" class=sort" if sortable else ""}>{esc(h)}</th>' for h in head)
    body = "".join(f'<tr{" class=best" if best else ""}>' + "".join(cell(v, key=k) for v, k in zip(row, key)) + "</tr>"
                   for row, key, best in zip(rows, keys, marked))
    opening = "<table class=sortable>" if sortable else "<table>"
    return f'<div class=scroll>{opening}<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>'


def image(png: bytes, caption: str) -> str:
    """A PNG inline (a data URI), with its caption."""
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{data}"><figcaption>{esc(caption)}' \
           f"</figcaption></figure>"


def section(key: str, title: str, body: str) -> str:
    return f'<section id="{esc(key)}"><h2>{esc(title)}</h2>{body}</section>'


def page(title: str, subtitle: Sequence[str], sections: Sequence[tuple[str, str, str]]) -> str:
    """The whole document: header, a menu of the sections, the sections, the sorting script."""
    menu = "".join(f'<a href="#{esc(key)}">{esc(name)}</a>' for key, name, _ in sections)
    lines = "".join(f"<p>{esc(line)}</p>" for line in subtitle)
    body = "".join(section(key, name, content) for key, name, content in sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
            f"<body><header><h1>{esc(title)}</h1>{lines}</header><nav>{menu}</nav><main>{body}</main>"
            f"<script>{SCRIPT}</script></body></html>")
