"""``neurodata info PATH``: what a file holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..io import detect_format, load
from ..summary import SUMMARY_DIMS, summarize
from ._options import format_option, parse_options, reader_option


@click.command("info")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@format_option
@reader_option
def command(path: Path, as_json: bool, fmt: str | None, options: tuple[str, ...]) -> None:
    """Summarise PATH: dims, sampling rate, duration, channels/neurons, units, provenance."""
    spec = detect_format(path) if fmt is None else None
    obj = load(path, format=fmt, **parse_options(options))
    summary = {"path": str(path), "format": fmt or spec.name, **summarize(obj)}
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str, ensure_ascii=False))
    else:
        click.echo(render(summary))


def render(summary: dict[str, Any]) -> str:
    """Plain-text rendering of [`neurodata.summary.summarize`][] output."""
    lines = [f"{summary['path']}  [{summary['format']}, {summary['type']}]"]
    if summary["kinds"]:
        lines.append(f"  kinds: {', '.join(summary['kinds'])}")
    lines.append("  dims: " + ", ".join(f"{k}={v}" for k, v in summary["dims"].items()))
    time = summary.get("time")
    if time:
        rate = time.get("sfreq", time.get("sfreq_estimated"))
        parts = [f"{time['n_times']} samples"]
        if rate is not None:
            parts.append(f"{rate:g} Hz" + ("" if "sfreq" in time else " (estimated)"))
        if "duration_s" in time:
            parts.append(f"{time['duration_s']:.3f} s")
        if time.get("regular") is False:
            parts.append("irregular")
        lines.append("  time: " + ", ".join(parts))
    for dim in SUMMARY_DIMS:
        info = summary.get(dim)
        if not info:
            continue
        text = f"  {dim}: {info['count']}"
        if "first" in info:
            more = " ..." if info["count"] > len(info["first"]) else ""
            text += f" ({', '.join(info['first'])}{more})"
        if info.get("types"):
            text += "; types " + ", ".join(f"{k}={v}" for k, v in info["types"].items())
        if info.get("bad"):
            text += f"; bad: {', '.join(info['bad'])}"
        lines.append(text)
    if "events" in summary:
        ev = summary["events"]
        labels = ", ".join(f"{k} x{v}" for k, v in ev["labels"].items())
        lines.append(f"  events: {ev['count']} ({labels})")
    if summary.get("identified_neurons"):
        counts = ", ".join(f"{w}={n}" for w, n in summary["identified_neurons"].items())
        lines.append(f"  identified neurons per worm: {counts}")
    lines.append("  variables:")
    for name, var in summary["variables"].items():
        unit = var.get("units") or var.get("long_name") or "-"
        lazy = ", lazy" if var["lazy"] else ""
        lines.append(f"    {name} ({', '.join(var['dims'])}) {var['dtype']} [{unit}]{lazy}")
    if summary.get("attrs"):
        lines.append("  attrs:")
        lines.extend(f"    {key}: {value}" for key, value in summary["attrs"].items())
    for key, value in summary.get("provenance", {}).items():
        if isinstance(value, list):
            value = "; ".join(map(str, value))
        # a multi-line value (history: one step per line) stays indented under its key
        lines.append(f"  {key}: " + str(value).replace("\n", "\n" + " " * (len(key) + 4)))
    return "\n".join(lines)
