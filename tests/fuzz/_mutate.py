"""Byte-level mutations of a seed file (flip, truncate, insert, overwrite, header numbers)."""

from __future__ import annotations

import re

from hypothesis import strategies as st

#: Replacement values for numbers found in text headers (EDF, BrainVision, TextGrid, CSV).
NUMBERS = (b"0", b"-1", b"99999999", b"1e308", b"nan", b"4294967296", b"", b"-0.0", b"7")
_DIGITS = re.compile(rb"-?\d+(?:\.\d+)?")


def apply(data: bytes, ops: list[tuple]) -> bytes:
    """Apply mutation ``ops`` in order; positions are taken modulo the current length."""
    buf = bytearray(data)
    for op, *args in ops:
        n = len(buf)
        if op == "flip" and n:
            pos, bit = args
            buf[pos % n] ^= 1 << bit
        elif op == "truncate":
            (pos,) = args
            del buf[pos % (n + 1) :]
        elif op == "insert":
            pos, chunk = args
            buf[pos % (n + 1) : pos % (n + 1)] = chunk
        elif op == "overwrite" and n:
            pos, chunk = args
            start = pos % n
            buf[start : start + len(chunk)] = chunk
        elif op == "number":
            index, value = args
            found = list(_DIGITS.finditer(bytes(buf[:8192])))
            if found:
                m = found[index % len(found)]
                buf[m.start() : m.end()] = NUMBERS[value % len(NUMBERS)]
    return bytes(buf)


# positions favour the header (first 512 bytes), where parsers decide what to allocate
_position = st.one_of(st.integers(0, 511), st.integers(0, 1 << 20))
_chunk = st.binary(min_size=1, max_size=16)
_op = st.one_of(
    st.tuples(st.just("flip"), _position, st.integers(0, 7)),
    st.tuples(st.just("truncate"), _position),
    st.tuples(st.just("insert"), _position, _chunk),
    st.tuples(st.just("overwrite"), _position, _chunk),
    st.tuples(st.just("number"), st.integers(0, 200), st.integers(0, len(NUMBERS) - 1)),
)
operations = st.lists(_op, min_size=1, max_size=4)
