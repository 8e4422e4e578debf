"""Side-by-side benchmarks against the peers named in DESIGN.md.

Run all with ``make bench`` (``python -m benchmarks``) or some with
``python -m benchmarks rsa encoding``; ``--quick`` uses small sizes.
Each ``bench_<name>.py`` module defines ``run(quick: bool) -> list[dict]``;
every row names the task, neurodata's and the peer's time (and peak memory
where measured) and their ratio, all measured in the same process and run.
"""
