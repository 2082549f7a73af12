"""Why FFmpeg failed, from its stderr: the lines it logged as errors, never the statistics it
prints on the way out (x264's "kb/s:90.90" is not a reason). Pure."""

from __future__ import annotations

import re

# `-loglevel level+info` prefixes every line with its level: "[out#0/mp4 @ 0x55] [error] ...".
_LEVELLED = re.compile(r"^(?P<where>(?:\[[^\]]*\] )*?)\[(?P<level>panic|fatal|error|warning|"
                       r"info|verbose|debug|trace)\] (?P<text>.*)$")
_ADDRESS = re.compile(r" @ 0x[0-9a-f]+")
# Error-level lines that only say that something else failed.
_ECHOES = ("Task finished with error code", "Terminating thread with return code",
           "Error while filtering", "Error sending frames to consumers",
           "Could not open encoder before EOF", "Conversion failed")
# Statistics and progress FFmpeg (and the encoders it wraps) print at info level; the last
# resort for a stderr without levels (an old FFmpeg, or a wrapper's own lines).
_STATISTICS = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)*(?:frame=|size=|video:|audio:|Lsize=|encoded \d+ frames|"
    r"frame [IPB]:|mb [IPB]|8x8 transform|coded y,|i16 |i8 |i4 |i8c |Weighted P|ref [PB] |"
    r"kb/s:|consecutive B-frames|SSIM|PSNR|x265 \[info\]|Stream mapping|Stream #|Input #|"
    r"Output #|Metadata:|Duration:|Side data:|Press \[q\]|\s{2,})")


def ffmpeg_error_lines(stderr: str, limit: int = 3) -> str:
    """The last `limit` distinct error lines FFmpeg logged, addresses removed; without level
    prefixes, the last lines that are not statistics. Empty when it said nothing useful."""
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    errors: list[str] = []
    levelled = False
    for line in lines:
        match = _LEVELLED.match(line)
        if match is None:
            continue
        levelled = True
        if match["level"] in ("panic", "fatal", "error"):
            where = _ADDRESS.sub("", match["where"]).strip()
            errors.append(f"{where} {match['text']}".strip())
    if not levelled:
        errors = [line.strip() for line in lines if not _STATISTICS.match(line)]
    telling = [e for e in errors if not any(echo in e for echo in _ECHOES)] or errors
    distinct: list[str] = []
    for line in telling:
        if line not in distinct:
            distinct.append(line)
    return "\n".join(distinct[-limit:])
