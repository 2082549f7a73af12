"""`rproxy report`: the HTML page of a job (real results of the engine on tiny lavfi media),
its thumbnails (the same frame of source and proxy, colour and shape as tagged, cached), its
escaping, placeholders and size; `rproxy schema --result`; and the page in a real browser."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from rproxy import ClipExecutionResult, JobExecutionResult, JobSpec, execute_multi_job_spec
from rproxy._cli import main
from rproxy._records import read_job_result
from rproxy._report import report, write_report
from rproxy._report_page import (
    NO_PICTURES,
    ClipPictures,
    Picture,
    ReportContext,
    esc,
    render_html,
    verification_of,
)
from rproxy._thumbs import Thumb, ThumbCache, ThumbnailError, grab, read_jpeg
from tests.conftest import FAKE_FFMPEG, SHARED_MEDIA, make_clip, write_spec
from tests.test_verify import fake_ffmpeg

# -- a real PARTIAL job, shared by the tests that only read it --------------------------------


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    """A 3-clip job whose middle clip FFmpeg fails to encode (a fake FFmpeg that fails on
    A002), run by the real engine: COMPLETED, FAILED, SKIPPED. Returns the spec file."""
    root = tmp_path_factory.mktemp("partial")
    for name in ("A001.mov", "A002.mov", "A003.mov"):
        make_clip(ffmpeg, root / name)
    (root / "out").mkdir()
    spec = write_spec(root, sources=["A001.mov", "A002.mov", "A003.mov"], resolution="320x180")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {"RPROXY_FFMPEG": str(FAKE_FFMPEG), "FAKE_REAL": ffmpeg,
                           "FAKE_MODE": "exit1", "FAKE_ONLY": "A002"}.items():
            patch.setenv(key, value)
        result = execute_multi_job_spec(JobSpec.from_file(spec))
    assert result.status.value == "PARTIAL"
    return spec


def result_path_of(spec: Path) -> Path:
    return next((spec.parent / "out" / ".rproxy").glob("*/result.json"))


def thumbs_in(page: str) -> list[Thumb]:
    """Every picture of the page, decoded from its data URI."""
    found = re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', page)
    thumbs = [read_jpeg(base64.b64decode(data)) for data in found]
    assert all(t is not None for t in thumbs)
    return [t for t in thumbs if t is not None]


def sections(page: str) -> list[str]:
    return re.findall(r'<section class="clip.*?</section>', page, flags=re.S)


def test_report_of_a_partial_job(partial: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(partial)]) == 0
    result_path = result_path_of(partial)
    written = result_path.parent / "report.html"  # the default place, beside result.json
    assert capsys.readouterr().out.strip().endswith("report.html")
    page = written.read_text(encoding="utf-8")
    result = read_job_result(result_path)

    assert f"Job {result.job_id}" in page and "PARTIAL" in page
    assert "1 completed, 1 failed, 1 skipped of 3 clips" in page
    assert str(partial.resolve()) in page  # the spec, when the report was asked for by spec
    assert "prores_proxy in mov, 320x180" in page
    assert result.clips[0].ffmpeg_version and esc(result.clips[0].ffmpeg_version) in page
    rows = sections(page)
    assert [re.search(r'class="badge (\w+)"', row).group(1) for row in rows] == [  # type: ignore[union-attr]
        "completed", "failed", "skipped"]
    # Pictures: source and proxy of clip 0, the sources of clips 1 and 2; placeholders for
    # the two proxies that were never made.
    assert [len(thumbs_in(row)) for row in rows] == [2, 1, 1]
    assert all(t.width == 192 and t.height == 108 for t in thumbs_in(page))
    assert "no proxy: the clip failed" in rows[1]
    assert "no proxy: the clip was skipped" in rows[2]
    # The reason of the failure, and the problems list pointing at it.
    reason = result.clips[1].failure_reason
    assert reason and f'<p class="reason">{esc(reason)}</p>' in rows[1]
    assert '<a href="#clip-1">#1 A002.mov</a>' in page
    # Checks with expected and found, and the command of the completed clip.
    assert "<th>frame_count</th><td>12</td><td>12</td>" in rows[0]
    assert 'class="bad"' not in page
    assert esc(result.clips[0].command_line) in rows[0]
    # Self-contained: nothing is fetched from anywhere.
    assert not re.search(r'(src|href)="(?!data:|#)', page)
    assert "default-src 'none'" in page


def test_source_and_proxy_show_the_same_frame(ffmpeg: str, tmp_path: Path) -> None:
    """testsrc2 changes every frame: the proxy's picture at the time of the source's picture
    matches it; a frame a few frames off does not."""
    source = make_clip(ffmpeg, tmp_path / "A001.mov", seconds=2)
    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=["A001.mov"], codec="h264", container="mp4",
                      resolution="320x180")
    clip = execute_multi_job_spec(JobSpec.from_file(spec)).clips[0]
    assert clip.status.value == "COMPLETED"
    picture = grab(source)
    assert 0.8 <= picture.at_s <= 1.2  # mid-clip
    same = grab(Path(clip.output_path), picture.at_s)
    other = grab(Path(clip.output_path), picture.at_s + 0.25)
    assert same.at_s == pytest.approx(picture.at_s, abs=1e-6)
    assert difference(picture, same) < 4 < 2 * 4 < difference(picture, other)


def pixels(thumb: Thumb) -> tuple[int, int, bytes]:
    """(width, height, RGB bytes) of a thumbnail, decoded as JPEG means: BT.601 full range."""
    frame = av.CodecContext.create("mjpeg", "r").decode(av.Packet(thumb.jpeg))[0]
    rgb = frame.reformat(format="rgb24", src_colorspace="ITU601", src_color_range=2,
                         dst_color_range=2)
    plane = rgb.planes[0]
    data = bytes(plane)
    rows = [data[y * plane.line_size:y * plane.line_size + 3 * rgb.width]
            for y in range(rgb.height)]
    return rgb.width, rgb.height, b"".join(rows)


def difference(a: Thumb, b: Thumb) -> float:
    pa, pb = pixels(a)[2], pixels(b)[2]
    assert len(pa) == len(pb)
    return sum(abs(x - y) for x, y in zip(pa, pb, strict=True)) / len(pa)


def centre(thumb: Thumb) -> tuple[int, ...]:
    width, height, data = pixels(thumb)
    at = 3 * ((height // 2) * width + width // 2)
    return tuple(data[at:at + 3])


@pytest.mark.parametrize(("matrix", "tags", "codec"), [
    ("bt709", ["-colorspace", "bt709"], ["prores_ks"]),
    ("bt601", ["-colorspace", "smpte170m"], ["prores_ks"]),
    ("bt709", ["-colorspace", "bt709", "-color_range", "pc"], ["libx264"]),
], ids=["bt709-limited", "bt601-limited", "bt709-full"])
def test_thumbnail_decodes_with_the_matrix_the_frame_is_tagged_with(
        ffmpeg: str, tmp_path: Path, matrix: str, tags: list[str], codec: list[str]) -> None:
    """A flat 0x30C050 made in each matrix comes back as 0x30C050 (read with the other
    matrix, green would be off by about 20 levels)."""
    full = "-color_range" in tags
    path = tmp_path / ("clip.mp4" if "libx264" in codec else "clip.mov")
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i",
                    "color=c=0x30C050:s=1280x720:r=25:d=0.2", "-vf",
                    f"scale=out_color_matrix={matrix}:out_range={'pc' if full else 'tv'},"
                    f"format={'yuvj420p' if full else 'yuv422p10le'}",
                    *tags, "-c:v", *codec, str(path)], check=True)
    got = centre(grab(path))
    assert all(abs(g - w) <= 8 for g, w in zip(got, (0x30, 0xC0, 0x50), strict=True)), got


def test_thumbnail_has_the_display_shape(ffmpeg: str, tmp_path: Path) -> None:
    """Pixel aspect and display rotation applied, an IMX frame's vertical interval cropped:
    the picture of the source is shaped as its proxy is."""
    anamorphic = make_clip(ffmpeg, tmp_path / "hdv.mov", size="1440x1080", audio_tracks=0,
                           extra=["-vf", "setsar=4/3"])
    picture = grab(anamorphic)
    assert (picture.width, picture.height) == (192, 108)

    plain = make_clip(ffmpeg, tmp_path / "plain.mov", audio_tracks=0)
    rotated = tmp_path / "rotated.mov"
    subprocess.run([ffmpeg, "-v", "error", "-display_rotation:v:0", "90", "-i", str(plain),
                    "-c", "copy", str(rotated)], check=True)
    upright = tmp_path / "upright.mov"  # turned by ffmpeg's autorotate, as the proxy is
    subprocess.run([ffmpeg, "-v", "error", "-i", str(rotated), "-c:v", "prores_ks",
                    str(upright)], check=True)
    picture = grab(rotated)
    assert (picture.width, picture.height) == (80, 144)
    assert difference(picture, grab(upright, picture.at_s)) < 4

    imx = tmp_path / "imx.mov"  # 32 white VBI lines above a black 4:3 picture
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i",
                    "color=black:s=720x576:r=25:d=0.2", "-vf",
                    "pad=720:608:0:32:white,setsar=16/15", "-c:v", "mpeg2video",
                    "-pix_fmt", "yuv422p", "-b:v", "30M", str(imx)], check=True)
    picture = grab(imx)
    assert (picture.width, picture.height) == (192, 144)
    assert max(pixels(picture)[2]) < 40  # no white line left at the top


def test_pictures_of_real_camera_and_phone_files() -> None:
    """Every file of ../shared/media gives a picture in its shape (IMX, interlaced HD, VFR
    phone footage with an edit list, 10-bit VP9, a transport stream of two frames where a
    seek lands past every frame, HEVC portrait)."""
    if not SHARED_MEDIA.is_dir():
        message = f"no {SHARED_MEDIA}: the pictures of real media are not checked"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    files = sorted(f for f in SHARED_MEDIA.iterdir() if f.suffix != ".md")
    shapes = {f.name: (t.width, t.height) for f in files if (t := grab(f))}
    assert len(shapes) == len(files) >= 10
    assert shapes["format_corpus_xdcam_ex_1080i50.mov"] == (192, 108)
    assert shapes["photoprism_mp42-hvc1.mp4"][0] < shapes["photoprism_mp42-hvc1.mp4"][1]
    assert shapes["hachoir_ts_empty_audio.ts"] == (192, 108)


def test_mismatch_stands_out(ffmpeg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             ) -> None:
    """An encode that drops a frame (the real ffmpeg, told to stop one frame early) fails
    verification: the check is marked on the page, with expected and found."""
    make_clip(ffmpeg, tmp_path / "A001.mov")
    (tmp_path / "bin").mkdir()
    (tmp_path / "out").mkdir()
    monkeypatch.setenv("RPROXY_FFMPEG",
                       str(fake_ffmpeg(tmp_path / "bin", ffmpeg, ["-frames:v", "11"])))
    spec = write_spec(tmp_path, sources=["A001.mov"])
    result = execute_multi_job_spec(JobSpec.from_file(spec))
    assert result.clips[0].status.value == "FAILED"
    monkeypatch.delenv("RPROXY_FFMPEG")

    page = report(spec).read_text(encoding="utf-8")
    bad = re.findall(r'<tr class="bad">(.*?)</tr>', page)
    assert bad == ['<td class="mark">&#10007; mismatch</td><th>frame_count</th><td>12</td>'
                   "<td>11</td>"]
    assert page.count('<tr class="ok">') >= 5  # the checks that passed are listed too
    assert '<span class="badge failed">1 mismatch</span>' in page
    assert "frame count 11, source 12" in page  # the reason, and in the problems list
    assert "tr.bad{background:#ffebe9" in page.replace(" ", "")


HOSTILE_NAME = "<img src=x onerror=alert(1)> & \"quote\" 'single' \x1b[31mred\x07.mov"


def test_every_string_is_escaped(ffmpeg: str, tmp_path: Path) -> None:
    """A real job on a source whose name holds markup, quotes and control characters."""
    make_clip(ffmpeg, tmp_path / HOSTILE_NAME)
    (tmp_path / "out").mkdir()
    # The proxy is named by its index: a name with control characters is refused for a proxy.
    spec = write_spec(tmp_path, sources=[HOSTILE_NAME], naming_template="{index}")
    result = execute_multi_job_spec(JobSpec.from_file(spec))
    assert result.status.value == "COMPLETED", result.clips[0].failure_reason

    page = report(spec).read_text(encoding="utf-8")
    assert "<img src=x" not in page and "onerror=alert(1)>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quote&quot; &#x27;single&#x27; " \
           "\\x1b[31mred\\x07.mov" in page
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", page)
    # Escaped for attributes too (the picture's alt text): no quote breaks out.
    assert 'alt="source frame of &lt;img src=x' in page


def test_escape_shows_what_is_invisible() -> None:
    assert esc("a\x00b\x1b[0m\u202eevil\udcff\r\nnext\t") == \
        "a\\x00b\\x1b[0m\\u202eevil\\xff\nnext\t"
    assert esc('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"


def test_missing_files_show_placeholders(partial: Path, tmp_path: Path) -> None:
    """Sources and proxies gone since the run: placeholders saying so, not a crash."""
    copy = tmp_path / "job"
    shutil.copytree(partial.parent, copy, symlinks=True)
    result = read_job_result(result_path_of(partial))
    (copy / "A001.mov").unlink()
    (copy / "out" / "A001.mov").unlink()
    for clip in result.clips:
        clip.source_path = str(copy / Path(clip.source_path).name)
        clip.output_path = str(copy / "out" / Path(clip.output_path).name)
    page = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    first = sections(page)[0]
    assert "source not found (moved or deleted since the run?)" in first
    assert "proxy not found (moved or deleted since the run?)" in first
    assert len(thumbs_in(page)) == 2  # the sources of A002 and A003


def test_thumbnails_are_cached(partial: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A second report decodes nothing (keyed by path, size and mtime); a changed file gets
    a new picture; a torn cache file is not taken."""
    copy = tmp_path / "job"
    shutil.copytree(partial.parent, copy, symlinks=True)
    (copy / "A002.mov").write_text("this is not a video\n")  # damaged since the run
    result = read_job_result(result_path_of(partial))
    for clip in result.clips:
        clip.source_path = str(copy / Path(clip.source_path).name)
        clip.output_path = str(copy / "out" / Path(clip.output_path).name)
    cache = tmp_path / "thumbs"
    first = write_report(result, tmp_path / "1.html", cache_dir=cache).read_text("utf-8")
    assert len(list(cache.glob("*.jpg"))) == 3 and len(list(cache.glob("*.err"))) == 1

    def no_decoding(*args: Any) -> Thumb:
        raise AssertionError("decoded although cached")

    with monkeypatch.context() as patch:
        patch.setattr("rproxy._thumbs.grab", no_decoding)
        second = write_report(result, tmp_path / "2.html", cache_dir=cache).read_text("utf-8")
    assert thumbs_in(second) == thumbs_in(first)
    assert "not a video file" in sections(second)[1]  # the failure came from the cache

    os.utime(copy / "A003.mov", ns=(1, 1))
    next(iter(cache.glob("*.jpg"))).write_bytes(b"\xff\xd8torn")
    write_report(result, tmp_path / "3.html", cache_dir=cache)
    assert len(list(cache.glob("*.jpg"))) == 4  # A003 again, under its new mtime


def test_a_missing_file_is_no_cache_entry(tmp_path: Path) -> None:
    with pytest.raises(ThumbnailError, match="no such file"):
        ThumbCache(tmp_path / "thumbs").get(tmp_path / "gone.mov")


def test_2000_rows_render_quickly(partial: Path) -> None:
    """The page of a 2,000-clip job (each clip a copy of the real records, with its two
    pictures) renders in well under a second here; the bound is generous for a shared
    machine (benchmarks/report.py measures it)."""
    result = read_job_result(result_path_of(partial))
    done, failed = result.clips[0], result.clips[1]
    clips = [(failed if i % 100 == 99 else done).model_copy(update={"index": i})
             for i in range(2000)]
    big = result.model_copy(update={"clips": clips})
    pictures = ClipPictures(Picture(grab(Path(done.source_path))),
                            Picture(grab(Path(done.output_path))))
    start = time.perf_counter()
    page = render_html(big, [pictures] * 2000)
    took = time.perf_counter() - start
    assert took < 5, took
    assert len(sections(page)) == 2000
    assert page.count("<img ") == 4000
    assert page.count(' src="data:') == 2 * 12  # the first rows; the rest wait in data-src
    assert len(page) / 2000 < 15_000  # bytes per clip: pictures of a few KB each


def test_render_without_pictures_or_verification() -> None:
    """A record with no verification (failed before encoding) and no pictures taken."""
    clip = ClipExecutionResult(index=0, source_path="/x/a.mov", output_path="/y/a.mov",
                               status="FAILED", failure_reason="source does not exist")
    result = JobExecutionResult(job_id="0a1b2c3d", status="FAILED", clips=[clip],
                                completed_count=0, failed_count=1, skipped_count=0)
    page = render_html(result, [NO_PICTURES], ReportContext())
    assert verification_of(clip) == {}
    assert "pictures not taken" in page and "source does not exist" in page
    assert "<table class=\"checks\">" not in page


def test_report_cli_errors(partial: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    never = write_spec(partial.parent, "never.json", sources=["A001.mov"],
                       output_dir=str(tmp_path))
    assert main(["report", str(never)]) == 1
    assert "has not run yet" in capsys.readouterr().err
    (tmp_path / "junk.json").write_text("{not json")
    assert main(["report", str(tmp_path / "junk.json")]) == 1
    assert "not a JSON result or spec" in capsys.readouterr().err
    assert main(["report", str(partial), "-o", str(tmp_path / "no" / "such" / "r.html")]) == 1
    assert "cannot write the report" in capsys.readouterr().err
    # -o a folder: the page goes into it, named after the job.
    assert main(["report", str(result_path_of(partial)), "-o", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("*-report.html"))) == 1


# -- the JSON Schema of result.json ----------------------------------------------------------


def result_schema(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["schema", "--result"]) == 0
    schema: dict[str, Any] = json.loads(capsys.readouterr().out)
    return schema


def test_schema_of_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    schema = result_schema(capsys)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "JobExecutionResult"
    assert {"job_id", "status", "clips", "completed_count"} <= set(schema["properties"])
    clip = schema["$defs"]["ClipExecutionResult"]["properties"]
    assert {"verification", "command_line", "failure_reason", "probe"} <= set(clip)


def undescribed(schema: dict[str, Any]) -> list[str]:
    """Every property, here and recursively through $defs, without a description."""
    missing: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                if not (isinstance(prop, dict) and prop.get("description")):
                    missing.append(f"{where}.{name}")
                walk(prop, f"{where}.{name}")
            for key, value in node.items():
                if key != "properties":
                    walk(value, where if key != "$defs" else "$defs")
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    walk({k: v for k, v in schema.items() if k != "$defs"}, schema.get("title", "result"))
    for name, definition in (schema.get("$defs") or {}).items():
        walk(definition, name)
    return missing


def test_every_field_of_the_result_schema_has_a_description(
        capsys: pytest.CaptureFixture[str]) -> None:
    missing = undescribed(result_schema(capsys))
    assert missing == []


# -- in a real browser ------------------------------------------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome")  # as .ci/run looks for them
# The closed network refuses connections; without the background-networking flags Chromium
# keeps making them (and waits on them).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Runs headless Chromium on a page and returns its DOM after the page's script ran.
    Skips without a browser, except under CI=true (where .ci/run installs one)."""
    binary = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if binary is None:
        message = ("no Chromium on PATH (.ci/run installs it: apt-get install chromium); "
                   "the report is not checked in a browser")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    runs = iter(range(1000))

    def run(page: Path, *args: str, fragment: str = "") -> str:
        profile = tmp_path / f"profile-{next(runs)}"
        profile.mkdir()
        done = subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                               # Frames are drawn (IntersectionObserver runs on them), then
                               # the page gets 10 s of virtual time before the DOM is read.
                               "--run-all-compositor-stages-before-draw",
                               "--virtual-time-budget=10000", *args, page.as_uri() + fragment],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    yield run


def thumbs_marker(dom: str) -> tuple[int, int, int]:
    """(decoded, broken, total) as the page's script counted them."""
    match = re.search(r'<html[^>]*data-thumbs="(\d+)/(\d+)/(\d+)"', dom)
    assert match, dom[:500]
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def test_report_in_a_browser(partial: Path, tmp_path: Path,
                             chromium: Callable[..., str]) -> None:
    """The report of the PARTIAL job, headless: every picture decoded, the failed clip's
    reason on the page; a screenshot is saved. The lazy path is checked too (every picture
    held back until its row is near the screen) and a broken picture is caught."""
    page = report(partial)
    result = read_job_result(result_path_of(partial))
    dom = chromium(page, "--dump-dom")
    assert thumbs_marker(dom) == (4, 0, 4)
    reason = result.clips[1].failure_reason
    assert reason and esc(reason) in dom
    shot = tmp_path / "report.png"
    chromium(page, "--window-size=1280,1100", f"--screenshot={shot}")
    assert shot.stat().st_size > 10_000
    print(f"screenshot of the report: {shot}")

    # Lazy: a 40-clip page with no picture in `src` at first; those near the screen load,
    # the others wait; `#all-thumbs` (as printing does) loads them all.
    source = Picture(grab(Path(result.clips[0].source_path)))
    clips = [result.clips[0].model_copy(update={"index": i}) for i in range(40)]
    many = result.model_copy(update={"clips": clips})
    lazy = tmp_path / "lazy.html"
    lazy.write_text(render_html(many, [ClipPictures(source, source)] * 40, eager_rows=0),
                    encoding="utf-8")
    assert ' src="data:' not in lazy.read_text(encoding="utf-8")
    # Headless Chromium on a loaded machine can read the DOM before its first intersection
    # callbacks ran (none loaded yet): that run says nothing about the page, so it is tried
    # again; a page that never loads the pictures on screen fails all three.
    for _ in range(3):
        shown, broken, total = thumbs_marker(chromium(lazy, "--dump-dom"))
        if shown:
            break
    assert (broken, total) == (0, 80) and 0 < shown < 40, shown
    print(f"lazy: {shown} of {total} pictures loaded in an 800x600 window")
    assert thumbs_marker(chromium(lazy, "--dump-dom", fragment="#all-thumbs")) == (80, 0, 80)

    pictures = [ClipPictures(source, Picture(note="none"))] * 3
    torn = ClipPictures(Picture(Thumb(b"\xff\xd8 not a jpeg \xff\xd9", 192, 108)),
                        Picture(note="none"))
    broken = tmp_path / "broken.html"
    broken.write_text(render_html(result, [torn, *pictures[1:]]), encoding="utf-8")
    assert thumbs_marker(chromium(broken, "--dump-dom")) == (2, 1, 3)
