"""Self-contained HTML reports: text, tables and matplotlib figures embedded as PNG.

A report is a list of [`Section`][] objects rendered by [`render_html`][]
into one HTML file with no external resources (figures are base64 data URIs),
so it can be mailed, archived, or opened offline.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Section", "figure_to_data_uri", "render_html", "save_figure", "write_report"]


@dataclass
class Section:
    """One part of a report.

    Attributes
    ----------
    title : str
        Heading.
    paragraphs : list of str
        Plain-text paragraphs (escaped when rendered).
    figures : list of (matplotlib.figure.Figure, str)
        Figures with their captions.
    tables : list of (pandas.DataFrame, str)
        Tables with their captions.
    notice : str, optional
        A highlighted line (e.g. which dataset was used).
    """

    title: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[tuple[Any, str]] = field(default_factory=list)
    tables: list[tuple[Any, str]] = field(default_factory=list)
    notice: str | None = None


def figure_to_data_uri(fig: Any, *, dpi: int = 110) -> str:
    """PNG data URI of a matplotlib figure (the figure is closed afterwards)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1050px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #334;padding-bottom:.2em}h2{margin-top:1.8em;color:#334}
.notice{background:#fff6d6;border-left:5px solid #e0a800;padding:.6em 1em;margin:1em 0}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.9em;color:#555}
table{border-collapse:collapse;font-size:.88em;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f0f2f5}
code,pre{background:#f5f5f5;font-size:.85em}pre{padding:.6em;overflow:auto}
"""


def render_html(
    title: str,
    sections: Sequence[Section],
    *,
    parameters: Mapping[str, Any] | None = None,
    versions: Mapping[str, Any] | None = None,
) -> str:
    """Render a report to one self-contained HTML string.

    Parameters
    ----------
    title : str
        Page title.
    sections : sequence of Section
        Content, in order.
    parameters, versions : mapping, optional
        Shown at the end, so that a report says how it was made.
    """
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p><small>Generated {_dt.datetime.now(_dt.UTC).isoformat(timespec='seconds')}</small></p>",
    ]
    for section in sections:
        parts.append(f"<section><h2>{esc(section.title)}</h2>")
        if section.notice:
            parts.append(f'<div class="notice">{esc(section.notice)}</div>')
        parts.extend(f"<p>{esc(p)}</p>" for p in section.paragraphs)
        for table, caption in section.tables:
            # escape=True: row/column labels come from data files (channel, region names)
            table_html = table.to_html(float_format=lambda v: f"{v:.3g}", border=0, escape=True)
            parts.append(f"<figure>{table_html}")
            parts.append(f"<figcaption>{esc(caption)}</figcaption></figure>")
        for fig, caption in section.figures:
            uri = figure_to_data_uri(fig)
            parts.append(f'<figure><img alt="{esc(caption)}" src="{uri}">')
            parts.append(f"<figcaption>{esc(caption)}</figcaption></figure>")
        parts.append("</section>")
    for heading, mapping in (("Parameters", parameters), ("Versions", versions)):
        if mapping:
            rows = "".join(
                f"<tr><th>{esc(str(k))}</th><td style='text-align:left'>{esc(str(v))}</td></tr>"
                for k, v in mapping.items()
            )
            parts.append(f"<section><h2>{heading}</h2><table>{rows}</table></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(path: str | os.PathLike, text: str, *, overwrite: bool = False) -> Path:
    """Write an HTML string atomically and locked (see `neurodata._atomic.atomic_output`)."""
    from ._atomic import atomic_output

    path = Path(path)
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def save_figure(
    fig: Any, path: str | os.PathLike, *, overwrite: bool = False, close: bool = True, **kwargs: Any
) -> Path:
    """Save a matplotlib figure atomically and locked; the format comes from ``path``'s suffix.

    ``kwargs`` go to `matplotlib.figure.Figure.savefig` (``dpi``, ``bbox_inches``...).
    The figure is closed afterwards unless ``close=False``, also when saving fails.
    """
    from ._atomic import atomic_output

    path = Path(path)
    kwargs.setdefault("format", path.suffix.lstrip(".").lower() or "png")
    try:
        with atomic_output(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, **kwargs)
    finally:
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return path
