"""Generate ``neurodata/celegans/data/neurons.csv``: the 302 hermaphrodite neurons.

Usage (from the repository root)::

    python tools/make_celegans_neurons.py ../shared/data/celegans/connectomes/cook2019_SI5_adjacency.xlsx

Source: Cook et al. (2019), *Whole-animal connectomes of both Caenorhabditis elegans
sexes*, Nature 571:63-71, Supplementary Information 5 (adjacency matrices), sheet
"hermaphrodite chemical" (as distributed in openworm/c302 @9cccbab, c302/data/).

- ``neuron``: the row labels of that sheet (300 neurons) plus CANL and CANR, which
  Cook et al. list among the "other end organs" columns; zero-padded numbers are
  written as in White et al. (1986): ``VB02`` -> ``VB2``.
- ``cook_group``: the row group of the sheet (PHARYNX, SENSORY NEURONS,
  INTERNEURONS, MOTOR NEURONS, SEX SPECIFIC; CAN: OTHER END ORGANS).
- ``neuron_type``: ``pharyngeal``, ``sensory``, ``inter``, ``motor`` from that group;
  the sex-specific hermaphrodite neurons (HSN, VC) are egg-laying motor neurons
  (White et al. 1986) and are typed ``motor``; CAN is ``unknown``.
- ``neuron_class``, ``left_right``, ``dorsal_ventral``: decomposition of the name
  following White et al. (1986) naming: the numbered ventral-cord classes (AS, DA,
  DB, DD, VA, VB, VC, VD) drop their number; a trailing L/R is a side when its
  mirror name exists; then a trailing D/V is a dorsal/ventral position when the
  mirror (D<->V) name exists and the remaining class name has >= 3 letters
  (so RIV and RID stay distinct classes). This yields the 118 classes of White et al.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "neurodata" / "celegans" / "data" / "neurons.csv"
NUMBERED = ("AS", "DA", "DB", "DD", "VA", "VB", "VC", "VD")
TYPES = {
    "PHARYNX": "pharyngeal",
    "SENSORY NEURONS": "sensory",
    "INTERNEURONS": "inter",
    "MOTOR NEURONS": "motor",
    "SEX SPECIFIC": "motor",
    "OTHER END ORGANS": "unknown",
}


def unpad(name: str) -> str:
    match = re.fullmatch(r"([A-Z]+)0+(\d+)", name)
    return f"{match[1]}{match[2]}" if match else name


def natural_key(name: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def decompose(names: list[str]) -> pd.DataFrame:
    known = set(names)
    rows = []
    stage1 = {}
    for name in names:
        side = ""
        base = name
        match = re.fullmatch(r"(AS|DA|DB|DD|VA|VB|VC|VD)(\d+)", name)
        if match:
            stage1[name] = (match[1], "", True)
            continue
        if name[-1] in "LR" and name[:-1] + {"L": "R", "R": "L"}[name[-1]] in known:
            side, base = name[-1], name[:-1]
        stage1[name] = (base, side, False)
    bases = {(b, bool(s)) for b, s, _ in stage1.values()}
    for name, (base, side, numbered) in stage1.items():
        dv = ""
        cls = base
        if not numbered and base[-1] in "DV" and len(base) >= 4:
            mirror = base[:-1] + {"D": "V", "V": "D"}[base[-1]]
            if any(b == mirror for b, _ in bases):
                dv, cls = base[-1], base[:-1]
        rows.append({"neuron": name, "neuron_class": cls, "left_right": side, "dorsal_ventral": dv})
    return pd.DataFrame(rows)


def main(xlsx: str) -> None:
    sheet = pd.read_excel(xlsx, sheet_name="hermaphrodite chemical", header=None)
    groups = sheet.iloc[3:, 0].ffill()
    names = sheet.iloc[3:, 2]
    keep = names.notna()
    table = pd.DataFrame(
        {
            "neuron": names[keep].map(lambda s: unpad(str(s).strip())),
            "cook_group": groups[keep].str.strip(),
        }
    )
    header = [str(c).strip() for c in sheet.iloc[2, 3:].dropna()]
    extra = [c for c in ("CANL", "CANR") if c in header and c not in set(table["neuron"])]
    table = pd.concat(
        [table, pd.DataFrame({"neuron": extra, "cook_group": "OTHER END ORGANS"})],
        ignore_index=True,
    )
    table["neuron_type"] = table["cook_group"].map(TYPES)
    table = table.merge(decompose(table["neuron"].tolist()), on="neuron")
    table = table.sort_values("neuron", key=lambda s: s.map(natural_key)).reset_index(drop=True)
    if len(table) != 302 or table["neuron"].duplicated().any():
        raise SystemExit(f"expected 302 unique neurons; got {len(table)}")
    n_classes = table["neuron_class"].nunique()
    if n_classes != 118:
        raise SystemExit(f"expected the 118 classes of White et al. 1986; got {n_classes}")
    cols = ["neuron", "neuron_class", "left_right", "dorsal_ventral", "neuron_type", "cook_group"]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table[cols].to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT} ({len(table)} neurons, {n_classes} classes)")


if __name__ == "__main__":
    main(
        sys.argv[1]
        if len(sys.argv) > 1
        else "../shared/data/celegans/connectomes/cook2019_SI5_adjacency.xlsx"
    )
