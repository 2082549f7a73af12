"""Is an MXF file complete? Its header partition pack names where the footer partition starts;
a file that ends before that was cut short (FFmpeg still reads the header's duration, so a
truncated MXF would otherwise look like a whole one). Reads the first few hundred bytes."""

from __future__ import annotations

import os
import struct
from pathlib import Path

# SMPTE 377M header partition pack key (its last two bytes, status and reserved, vary).
_HEADER_KEY = bytes.fromhex("060e2b34020501010d0102010102")
_RUN_IN_MAX = 65536  # SMPTE 377M allows a run-in of up to 64 KiB before the header


def mxf_truncated(path: Path) -> str | None:
    """Why the MXF at `path` is shorter than its header says, or None when it is not."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(_RUN_IN_MAX + 128)
    start = head.find(_HEADER_KEY)
    if start < 0:
        return None
    pos = start + 16
    if pos >= len(head):
        return None
    length = head[pos]
    pos += 1
    if length & 0x80:  # BER long form
        pos += length & 0x7F
    if pos + 48 > len(head):
        return None
    # major, minor, KAG size, this partition, previous partition, footer partition
    footer = struct.unpack_from(">HHIQQQ", head, pos)[5]
    if footer and start + footer > size:
        return (f"its header puts the footer at byte {start + footer:,}, "
                f"the file ends at byte {size:,}")
    return None
