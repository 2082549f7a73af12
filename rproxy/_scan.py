"""Which files in a folder are camera originals, for `rproxy init`: its video files, but
never hidden files, and never anything in an rproxy output folder (one that holds a
``.rproxy/`` state folder): those are proxies."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._validate import STATE_DIR

# What FFmpeg reads and cameras write. Hidden files (macOS "._A001.mov" next to every clip on
# exFAT cards) are never sources.
VIDEO_EXTENSIONS = frozenset({
    ".mov", ".mp4", ".m4v", ".mxf", ".mkv", ".webm", ".avi", ".mts", ".m2ts", ".mpg",
    ".mpeg", ".dv", ".3gp", ".ts", ".m2t", ".mod", ".tod", ".vob", ".m2v",
})


@dataclass(frozen=True)
class Found:
    clips: list[Path]
    below: int = 0  # video files in subfolders, not taken (not recursive)
    output_folders: tuple[Path, ...] = ()  # folders not searched: rproxy's outputs


def is_output_folder(path: Path) -> bool:
    """A folder that holds rproxy's state folder: its video files are proxies, never sources
    (`rproxy init -r .` in a project must not take proxies/**)."""
    return (path / STATE_DIR).is_dir()


def find_clips(folder: Path, recursive: bool = False,
               avoid: Callable[[Path], bool] = lambda path: False) -> Found:
    """The video files in `folder` (and below it, when `recursive`), sorted by path ignoring
    letter case. Hidden files and folders, rproxy output folders and the folders for which
    `avoid` is true are not searched."""
    clips: list[Path] = []
    below = 0
    skipped: list[Path] = []
    # Top-down, so that pruning `dirs` keeps os.walk out of what lies below; without
    # --recursive the subfolders are still walked, to say how many clips were left there.
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        kept = []
        for name in dirs:
            sub = here / name
            if name.startswith("."):  # .rproxy/ itself, .Trashes, .Spotlight-V100
                continue
            if is_output_folder(sub):
                skipped.append(sub)
                continue
            if avoid(sub):  # a proxies folder of this init's, not made or not run yet
                continue
            kept.append(name)
        dirs[:] = kept
        for name in files:
            path = here / name
            if name.startswith(".") or path.suffix.lower() not in VIDEO_EXTENSIONS:
                continue
            if not path.is_file():
                continue
            if recursive or here == folder:
                clips.append(path)
            else:
                below += 1

    def key(path: Path) -> tuple[str, str]:  # A001.mov, a002.MOV, A003.mov: letter case aside
        rel = path.relative_to(folder).as_posix()
        return rel.casefold(), rel

    return Found(sorted(clips, key=key), below, tuple(sorted(skipped)))
