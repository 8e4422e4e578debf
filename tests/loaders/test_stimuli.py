"""Word timings: Praat TextGrids (long/short, encodings), word tables, BIDS events."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurodata as nd
from neurodata.errors import FormatError
from neurodata.loaders import stimuli

WORDS = [(0.0, 0.5, "sp"), (0.5, 0.9, "Alice"), (0.9, 1.2, 'said "hi"'), (1.2, 1.3, ""),
         (1.3, 1.8, "Mädchen"), (1.8, 2.0, "<sil>"), (2.0, 2.6, "naïve")]  # fmt: skip
PHONES = [(0.0, 0.5, "sp"), (0.5, 0.7, "AE1"), (0.7, 0.9, "L")]


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def long_textgrid(tiers: dict[str, list], xmax: float = 2.6) -> str:
    lines = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0 ",
        f"xmax = {xmax} ",
        "tiers? <exists> ",
        f"size = {len(tiers)} ",
        "item []: ",
    ]
    for n, (name, items) in enumerate(tiers.items(), 1):
        lines += [
            f"    item [{n}]:",
            '        class = "IntervalTier" ',
            f"        name = {_quote(name)} ",
            "        xmin = 0 ",
            f"        xmax = {xmax} ",
            f"        intervals: size = {len(items)} ",
        ]
        for m, (start, stop, text) in enumerate(items, 1):
            lines += [
                f"        intervals [{m}]:",
                f"            xmin = {start!r} ",
                f"            xmax = {stop!r} ",
                f"            text = {_quote(text)} ",
            ]
    return "\n".join(lines) + "\n"


def short_textgrid(tiers: dict[str, list], xmax: float = 2.6) -> str:
    lines = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "0",
        f"{xmax}",
        "<exists>",
    ]
    lines.append(str(len(tiers)))
    for name, items in tiers.items():
        lines += ['"IntervalTier"', _quote(name), "0", f"{xmax}", str(len(items))]
        for start, stop, text in items:
            lines += [repr(start), repr(stop), _quote(text)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("writer", [long_textgrid, short_textgrid])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le"])
def test_textgrid_formats_and_encodings(tmp_path, writer, encoding):
    path = tmp_path / "story.TextGrid"
    path.write_bytes(writer({"words": WORDS}).encode(encoding))
    ds = nd.load(path)
    assert ds.attrs["source_format"] == "textgrid"
    assert ds["text"].values.tolist() == ["Alice", 'said "hi"', "Mädchen", "naïve"]
    np.testing.assert_array_equal(ds["onset"], [0.5, 0.9, 1.3, 2.0])
    np.testing.assert_array_equal(ds["offset"], [0.9, 1.2, 1.8, 2.6])
    assert ds["onset"].attrs["units"] == "s" and ds["offset"].attrs["units"] == "s"
    assert ds["word"].values.tolist() == [0, 1, 2, 3]


def test_latin1_textgrid(tmp_path):
    path = tmp_path / "latin.TextGrid"
    path.write_bytes(short_textgrid({"words": WORDS}).encode("latin-1"))
    assert "Mädchen" in nd.load(path)["text"].values.tolist()


def test_silence_kept_and_flagged(tmp_path):
    path = tmp_path / "s.TextGrid"
    path.write_text(long_textgrid({"words": WORDS}))
    ds = nd.load(path, silence="keep")
    assert ds.sizes["word"] == len(WORDS)
    assert ds["is_word"].values.tolist() == [False, True, True, False, True, False, True]
    only = nd.load(path, silence="drop", silence_markers=["sp"])
    assert only["text"].values.tolist() == ["Alice", 'said "hi"', "", "Mädchen", "<sil>", "naïve"]
    with pytest.raises(ValueError, match=r"`silence` must be one of \['drop', 'keep'\]"):
        nd.load(path, silence="mark")


def test_tier_selection(tmp_path):
    path = tmp_path / "two.TextGrid"
    path.write_text(long_textgrid({"phones": PHONES, "words": WORDS}))
    assert nd.load(path).attrs["tier"] == "words"
    phones = nd.load(path, tier="phones")
    assert phones["text"].values.tolist() == ["AE1", "L"]
    assert nd.load(path, tier=0).attrs["tier"] == "phones"
    assert phones.attrs["tiers"] == ["phones", "words"]
    with pytest.raises(ValueError, match=r"`tier` must be one of \['phones', 'words'\]; got 'x'"):
        nd.load(path, tier="x")
    ambiguous = tmp_path / "ambiguous.TextGrid"
    ambiguous.write_text(long_textgrid({"a": PHONES, "b": WORDS}))
    with pytest.raises(
        FormatError, match=r"ambiguous.TextGrid: TextGrid has tiers \['a', 'b'\]; pass `tier`"
    ):
        nd.load(ambiguous)


def test_point_tier_gives_nan_offsets(tmp_path):
    text = "\n".join(
        ['File type = "ooTextFile"', 'Object class = "TextGrid"', "0", "3", "<exists>", "1",
         '"TextTier"', '"beats"', "0", "3", "2", "0.5", '"a"', "1.5", '"b"']
    )  # fmt: skip
    path = tmp_path / "points.TextGrid"
    path.write_text(text)
    ds = nd.load(path)
    np.testing.assert_array_equal(ds["onset"], [0.5, 1.5])
    assert np.isnan(ds["offset"]).all()


def test_broken_textgrids(tmp_path):
    path = tmp_path / "cut.TextGrid"
    path.write_text(long_textgrid({"words": WORDS})[:-80])
    with pytest.raises(FormatError, match=r"cut.TextGrid: file ends early.*truncated"):
        nd.load(path)
    other = tmp_path / "pitch.TextGrid"
    other.write_text('File type = "ooTextFile"\nObject class = "Pitch 1"\n0\n1\n')
    with pytest.raises(FormatError, match=r"pitch.TextGrid: not a Praat TextGrid"):
        nd.load(other)
    binary = tmp_path / "bin.TextGrid"
    binary.write_bytes(b"ooBinaryFile\x08TextGrid")
    with pytest.raises(FormatError, match=r"binary TextGrids are not supported"):
        nd.load(binary)
    backwards = tmp_path / "backwards.TextGrid"
    backwards.write_text(short_textgrid({"words": [(1.0, 0.5, "oops")]}))
    with pytest.raises(FormatError, match=r"word 'oops' ends before it starts"):
        nd.load(backwards)


def test_sniffing_without_extension(tmp_path):
    path = tmp_path / "alignment"
    path.write_text(short_textgrid({"words": WORDS}))
    assert nd.io.detect_format(path).name == "textgrid"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=st.lists(
        st.tuples(
            st.floats(0, 1e4, allow_nan=False),
            st.floats(0, 10, allow_nan=False),
            st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
        ),
        max_size=30,
    ),
    long=st.booleans(),
)
def test_textgrid_round_trip_property(tmp_path_factory, items, long):
    """Any words written by a Praat-style writer read back identically (silences kept)."""
    intervals = [(start, start + dur, text) for start, dur, text in items]
    writer = long_textgrid if long else short_textgrid
    path = tmp_path_factory.mktemp("tg") / "p.TextGrid"
    path.write_text(writer({"words": intervals}, xmax=2e4), encoding="utf-8")
    ds = stimuli.read_textgrid(path, silence="keep")
    order = np.argsort([i[0] for i in intervals], kind="stable")
    assert ds["text"].values.tolist() == [intervals[i][2].strip() for i in order]
    np.testing.assert_array_equal(ds["onset"], [intervals[i][0] for i in order])
    np.testing.assert_array_equal(ds["offset"], [intervals[i][1] for i in order])


def test_real_alice_textgrid(shared_data):
    path = shared_data / "language" / "alice" / "DownTheRabbitHoleFinal_exp120_pad_1.TextGrid"
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    text = path.read_text()
    # an independent reading with a regular expression over the long format
    found = re.findall(r'xmin = ([\d.]+)\s+xmax = ([\d.]+)\s+text = "(.*)"', text)
    ds = nd.load(path, silence="keep")
    assert ds.sizes["word"] == len(found) == 2423
    np.testing.assert_array_equal(ds["onset"], [float(a) for a, _, _ in found])
    np.testing.assert_array_equal(ds["offset"], [float(b) for _, b, _ in found])
    words = nd.load(path)
    assert words.sizes["word"] == sum(t not in ("sp", "") for _, _, t in found) == 2127
    assert words["text"].values[:3].tolist() == ["Alice", "was", "beginning"]
    assert words["onset"].values[0] == pytest.approx(20.05891632653599)


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------


def test_word_table_csv(tmp_path):
    path = tmp_path / "words.csv"
    path.write_text("word,onset,offset\nthe,0.5,0.7\nsp,0.7,1.0\nrabbit,1.0,1.4\nhole,1.4,1.9\n")
    ds = nd.load(path, format="word-timings")
    assert ds["text"].values.tolist() == ["the", "rabbit", "hole"]
    np.testing.assert_array_equal(ds["offset"], [0.7, 1.4, 1.9])
    assert ds.attrs["source_format"] == "word-timings"


def test_bids_events_with_durations_and_trial_types(tmp_path):
    path = tmp_path / "sub-01_task-alice_events.tsv"
    path.write_text(
        "onset\tduration\ttrial_type\tword\n"
        "1.0\t0.3\tword\tDown\n"
        "1.3\t0.2\tword\tthe\n"
        "1.5\tn/a\tword\trabbit\n"
        "2.0\t0.0\tbutton\tn/a\n"
    )
    ds = nd.load(path, format="word-timings", trial_type="word")
    assert ds["text"].values.tolist() == ["Down", "the", "rabbit"]
    np.testing.assert_allclose(ds["offset"][:2], [1.3, 1.5])
    assert np.isnan(ds["offset"][2])
    plain = tmp_path / "plain.tsv"
    plain.write_text("onset\tduration\tword\n1.0\t0.3\tDown\n")
    with pytest.raises(FormatError, match=r"plain.tsv: `trial_type` given but .* no 'trial_type'"):
        nd.load(plain, format="word-timings", trial_type="word")


def test_table_columns_by_name_and_errors(tmp_path):
    path = tmp_path / "aligned.tsv"
    path.write_text("tok\tt0\tt1\nDown\t0.1\t0.4\n")
    with pytest.raises(FormatError, match=r"aligned.tsv: need columns for the word, its onset"):
        nd.load(path, format="word-timings")
    ds = nd.load(path, format="word-timings", text="tok", onset="t0", offset="t1")
    assert ds["text"].values.tolist() == ["Down"]
    with pytest.raises(FormatError, match=r"no column 'start'"):
        nd.load(path, format="word-timings", text="tok", onset="start", offset="t1")
    bad = tmp_path / "bad.csv"
    bad.write_text("word,onset,offset\nx,soon,later\n")
    with pytest.raises(FormatError, match=r"column 'onset' is not numeric"):
        nd.load(bad, format="word-timings")
