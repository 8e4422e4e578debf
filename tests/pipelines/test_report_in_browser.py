"""A report opened in a real (headless) browser shows its figures.

Skips when no Chromium/Chrome is installed: the check needs a real browser,
not an HTML parser, because the question is whether the embedded PNGs decode
and render.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from neurodata.report import Section, render_html, write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def _browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no headless Chromium/Chrome on this machine")


def _screenshot(browser: str, page, png, tmp_path, height: int = 1600) -> np.ndarray:
    import matplotlib.image as mpimg

    cmd = [
        browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}", f"--window-size=1000,{height}",
        f"--screenshot={png}", page.as_uri(),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return mpimg.imread(png)[..., :3]


def test_report_figures_render_in_a_headless_browser(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    browser = _browser()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.imshow(np.ones((10, 10, 3)) * np.array([1.0, 0.0, 0.0]), aspect="auto")  # pure red
    section = Section(
        "Scores <b>not bold</b>",
        paragraphs=["channel <script>document.body.innerHTML=''</script> is escaped"],
        figures=[(fig, "a red square")],
        tables=[(pd.DataFrame({"r": [0.1, 0.2]}, index=["a", "b"]), "a table")],
    )
    page = write_report(tmp_path / "report.html", render_html("browser check", [section]))
    image = _screenshot(browser, page, tmp_path / "shot.png", tmp_path)
    red = (image[..., 0] > 0.9) & (image[..., 1] < 0.1) & (image[..., 2] < 0.1)
    # the figure decoded and rendered: a large block of pure red pixels
    assert red.sum() > 5_000, f"only {red.sum()} red pixels: the figure did not render"
    # the escaped <script> did not run (it would have blanked the page)
    dark = image.mean(axis=-1) < 0.3
    assert dark.sum() > 500, "no text rendered"


def test_report_without_figures_has_no_red(tmp_path):
    """The pixel check above can fail: a page without the figure has no red block."""
    browser = _browser()
    page = write_report(tmp_path / "r.html", render_html("empty", [Section("nothing")]))
    image = _screenshot(browser, page, tmp_path / "shot.png", tmp_path, height=600)
    red = (image[..., 0] > 0.9) & (image[..., 1] < 0.1) & (image[..., 2] < 0.1)
    assert red.sum() == 0
