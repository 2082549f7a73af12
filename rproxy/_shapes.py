"""Display shapes, for `rproxy init`: which clips share one (so that one spec, with one
explicit resolution, fits them all), what a shape is called, and the suffix of its spec's
file name. Pure: the sizes come in already probed, pixel aspect and rotation applied."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

# Shapes this close are one shape: the pre-flight accepts a proxy whose shape differs from
# the source's only by rounding to even sizes (about 1 %), so splitting them would make a
# spec nobody needs (1920x1080 and 1920x1088 are both 16:9).
SAME_SHAPE = 0.01

# The shapes people name by their ratio (landscape; a portrait one is the same turned).
_NAMED = ((16, 9), (4, 3), (3, 2), (1, 1), (5, 4), (21, 9))


def ratio(size: tuple[int, int]) -> float:
    width, height = size
    return width / height


def same_shape(a: float, b: float) -> bool:
    return abs(a / b - 1) <= SAME_SHAPE


def group_by_shape(sizes: Sequence[tuple[int, int]]) -> list[list[int]]:
    """The indices of `sizes` (display sizes) in groups of one shape each: every group in
    input order, the biggest group first (a tie: the group whose first clip comes first)."""
    groups: list[tuple[float, list[int]]] = []
    for index, size in enumerate(sizes):
        shape = ratio(size)
        for first, members in groups:
            if same_shape(shape, first):
                members.append(index)
                break
        else:
            groups.append((shape, [index]))
    ordered = sorted(groups, key=lambda group: (-len(group[1]), group[1][0]))
    return [members for _, members in ordered]


def representative(members: Sequence[int], sizes: Sequence[tuple[int, int]]) -> int:
    """The member whose display size is the group's most common one (a tie: the first)."""
    counts = Counter(sizes[i] for i in members)
    best = max(counts.values())
    return next(i for i in members if counts[sizes[i]] == best)


def ratio_name(size: tuple[int, int]) -> str:
    """'16:9', '9:16', '4:3', '1:1', or the ratio to one ('2.39:1', '1:2.17')."""
    shape = ratio(size)
    for a, b in _NAMED:
        if same_shape(shape, a / b):
            return f"{a}:{b}"
        if same_shape(shape, b / a):
            return f"{b}:{a}"
    return f"{shape:.2f}:1" if shape >= 1 else f"1:{1 / shape:.2f}"


def orientation(size: tuple[int, int]) -> str:
    shape = ratio(size)
    if same_shape(shape, 1.0):
        return "square"
    return "landscape" if shape > 1 else "portrait"


def describe(size: tuple[int, int]) -> str:
    """'16:9 landscape', '9:16 portrait', '1:1 square'."""
    return f"{ratio_name(size)} {orientation(size)}"


def suffix(size: tuple[int, int]) -> str:
    """The end of an extra spec's name (jobs/A001_portrait.json): the plain word for the
    two shapes everyone shoots (16:9 landscape, 9:16 portrait) and square, the ratio
    otherwise ('4x3', '3x4', '2.39x1')."""
    name = ratio_name(size)
    words = {"16:9": "landscape", "9:16": "portrait", "1:1": "square"}
    return words.get(name, name.replace(":", "x"))
