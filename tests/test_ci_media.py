"""Without the shared sample media, its tests skip and say where they looked, but under
CI=true they fail: a CI without the media must not look green (tests/conftest.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Every way a test meets the media: a module's skipif mark, a test that skips by itself.
NEEDS_MEDIA = ["tests/test_real_media.py",
               "tests/test_report.py::test_pictures_of_real_camera_and_phone_files"]


def pytest_without_media(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["RPROXY_TEST_MEDIA"] = str(tmp_path / "no-media-here")
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                           *NEEDS_MEDIA], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)


def test_missing_media_skips_and_says_where_it_looked(tmp_path: Path) -> None:
    done = pytest_without_media(tmp_path, ci=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" not in done.stdout and " failed" not in done.stdout
    counted = re.fullmatch(r"(\d+) skipped in .*", done.stdout.splitlines()[-1])
    assert counted and int(counted[1]) >= 10, done.stdout
    skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert all(str(tmp_path / "no-media-here") in line for line in skips), skips


def test_missing_media_fails_under_ci(tmp_path: Path) -> None:
    done = pytest_without_media(tmp_path, ci=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert " skipped" not in done.stdout.splitlines()[-1], done.stdout
    failures = [line for line in done.stdout.splitlines()
                if line.startswith(("FAILED", "ERROR"))]
    assert len(failures) >= 11, done.stdout
    assert all(str(tmp_path / "no-media-here") in line for line in failures), failures
