"""Looking at pictures for verification: the first frame of a source and of its proxy, each
decoded as its own colour tags say, made small and compared (PSNR), field by field where the
source is interlaced; and where the proxy's picture sits in the source (the crop).

One decoded frame per file, FFmpeg's own filters (PyAV filter graphs) for cropping, field
extraction and scaling, and plain Python on a few thousand pixels: a few tens of ms."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import av
import av.filter

from ._colour import SCALER_MATRIX

# Colour is compared this wide (or the proxy's width, if smaller): averaged down to blocks of
# about 10x10 pixels of a small proxy, codec noise, chroma subsampling and the scalers'
# differences are gone while a wrong colour matrix (a shift of every saturated colour) stays.
COLOUR_WIDTH = 32
# Fields are compared this wide: a field differs from the other by motion and fine detail.
FIELDS_WIDTH = 160


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    rgb: bytes  # width * height * 3 bytes, rows packed


@dataclass(frozen=True)
class Decode:
    """How to look at one file's first frame."""

    matrix: str  # FFmpeg colour matrix name the YUV is decoded with ("gbr": it is RGB)
    range: str  # tv or pc
    crop: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, bottom, left, right of decoded
    rotation: int = 0  # degrees the display matrix turns it


def first_frames(path: Path, index: int, count: int = 1,
                 lowres: int = 0) -> list[av.VideoFrame]:
    """The first `count` frames of stream `index` (fewer if the file has fewer), decoded at
    1/2^lowres of their size where the codec can (JPEG 2000)."""
    frames: list[av.VideoFrame] = []
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams[index]
        stream.codec_context.thread_count = 1
        if lowres:
            stream.codec_context.options = {"lowres": str(lowres)}
        for frame in container.decode(stream):
            frames.append(frame)  # type: ignore[arg-type]
            if len(frames) == count:
                break
    if not frames:
        raise ValueError(f"{path.name}: no frame decodes")
    return frames


def picture(frame: av.VideoFrame, how: Decode, width: int, height: int,
            field: str | None = None) -> Picture:
    """`frame` as RGB at width x height: cropped, turned, one field of it (top / bottom)
    when asked, converted with the matrix and range `how` names."""
    graph = av.filter.Graph()
    chain = [graph.add_buffer(width=frame.width, height=frame.height, format=frame.format,
                              time_base=frame.time_base)]
    top, bottom, left, right = how.crop
    if any(how.crop):
        chain.append(graph.add("crop",
                               f"iw-{left + right}:ih-{top + bottom}:{left}:{top}:exact=1"))
    if field is not None:
        chain.append(graph.add("field", field))
    # As FFmpeg's autorotate turns it: the display matrix angle is counter-clockwise.
    for step in {90: ["transpose=cclock"], 180: ["hflip", "vflip"],
                 270: ["transpose=clock"]}.get(how.rotation, []):
        name, _, args = step.partition("=")
        chain.append(graph.add(name, args or None))
    # To RGB at full size first, then averaged down: the scaler's one-step area path gives
    # different colours for some formats (ProRes 4444's yuv444p12le: 26 dB off FFmpeg's own
    # conversion, where two steps agree to 55 dB).
    if how.matrix != "gbr":
        chain.append(graph.add("scale", f"in_color_matrix={SCALER_MATRIX.get(how.matrix, 'auto')}"
                                        f":in_range={'pc' if how.range == 'pc' else 'tv'}"))
    chain.append(graph.add("format", "rgb24"))
    chain.append(graph.add("scale", f"{width}:{height}:flags=area"))
    chain.append(graph.add("buffersink"))
    for a, b in itertools.pairwise(chain):
        a.link_to(b)
    graph.configure()
    graph.push(frame)
    out = graph.vpull()
    plane = out.planes[0]
    data = bytes(plane)
    row = out.width * 3
    packed = b"".join(data[y * plane.line_size:y * plane.line_size + row]
                      for y in range(out.height))
    return Picture(out.width, out.height, packed)


def mse(a: Picture, b: Picture) -> float:
    """Mean squared difference of two same-size RGB pictures (per 8-bit value)."""
    if (a.width, a.height) != (b.width, b.height):
        raise ValueError("pictures of different sizes")
    return sum((x - y) * (x - y) for x, y in zip(a.rgb, b.rgb, strict=True)) / len(a.rgb)


def psnr(a: Picture, b: Picture) -> float:
    """Peak signal-to-noise ratio of two same-size RGB pictures, in dB (99: identical)."""
    error = mse(a, b)
    return 99.0 if error == 0 else round(10 * math.log10(255 * 255 / error), 2)


def compare_size(width: int, height: int, field: bool, across: int) -> tuple[int, int]:
    """The small size, `across` pixels wide, two pictures of a proxy's shape are compared at
    (a field: half as tall)."""
    small_w = min(across, width)
    small_h = max(2, round(small_w * height / width / (2 if field else 1)))
    return small_w, small_h


def luma_rows(frame: av.VideoFrame, crop: tuple[int, int, int, int]) -> list[float]:
    """The mean luma of every row of `frame` inside `crop` (top, bottom, left, right)."""
    gray = frame.reformat(format="gray")
    plane = gray.planes[0]
    data = bytes(plane)
    top, bottom, left, right = crop
    width = gray.width - left - right
    rows = []
    for y in range(top, gray.height - bottom):
        start = y * plane.line_size + left
        rows.append(sum(data[start:start + width]) / width)
    return rows


def best_offset(source_rows: list[float], proxy_rows: list[float], height: int,
                candidates: range) -> tuple[int, float] | None:
    """The first source row from which `height` source rows, resampled to the proxy's rows,
    match them best: (row, how much better than the worst candidate). None when the picture
    has too little vertical detail to tell."""
    mean = sum(source_rows) / len(source_rows)
    if sum((r - mean) ** 2 for r in source_rows) / len(source_rows) < 4.0:
        return None
    scores = []
    count = len(proxy_rows)
    for top in candidates:
        if top < 0 or top + height > len(source_rows):
            continue
        error = 0.0
        for i, value in enumerate(proxy_rows):
            pos = top + (i + 0.5) * height / count - 0.5
            low = min(max(math.floor(pos), top), top + height - 1)
            high = min(low + 1, top + height - 1)
            frac = pos - low
            expected = source_rows[low] * (1 - frac) + source_rows[high] * frac
            error += (expected - value) ** 2
        scores.append((error, top))
    if len(scores) < 2:
        return None
    scores.sort()
    return scores[0][1], scores[-1][0] / max(scores[0][0], 1e-9)
