"""The typed probe of a media file, as the records keep it. Data only (no PyAV), so that
reading records and planning jobs never loads the media libraries; ``_probe`` fills it."""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ._colour import Colour


class AudioInfo(BaseModel):
    """One audio stream that holds audio."""

    model_config = ConfigDict(extra="ignore")

    index: int | None = Field(default=None, description="Stream index in the file.")
    codec: str = Field(description="Codec name, e.g. pcm_s24le, aac.")
    channels: int = Field(description="Channel count.")
    sample_rate: int = Field(description="Samples per second.")
    layout: str = Field(default="", description="Channel layout name, e.g. stereo, 5.1.")
    bits: int = Field(default=16, description="Bits per sample of PCM (16 for lossy codecs).")


class Crop(BaseModel):
    """Lines and columns taken off the decoded picture."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    top: int = Field(default=0, description="Lines off the top.")
    bottom: int = Field(default=0, description="Lines off the bottom.")
    left: int = Field(default=0, description="Columns off the left.")
    right: int = Field(default=0, description="Columns off the right.")

    @property
    def empty(self) -> bool:
        return not (self.top or self.bottom or self.left or self.right)


class MediaInfo(BaseModel):
    """What a media file holds, as FFmpeg's command line presents it."""

    model_config = ConfigDict(extra="ignore")

    format_name: str = Field(description="FFmpeg's demuxer, e.g. 'mov,mp4,m4a,3gp,3g2,mj2'.")
    video_index: int = Field(default=0, description="Stream index of the picture.")
    video_codec: str = Field(description="Codec of the picture, e.g. prores, h264.")
    codec_tag: str = Field(default="", description="Sample entry FourCC, e.g. apco, hvc1.")
    profile: str | None = Field(default=None, description="Codec profile as PyAV reports it.")
    pix_fmt: str | None = Field(default=None, description="Decoded pixel format.")
    coded_width: int = Field(default=0, description="Width the decoder gives.")
    coded_height: int = Field(default=0, description="Height the decoder gives.")
    width: int = Field(description="Width FFmpeg delivers (after the container's crop).")
    height: int = Field(description="Height FFmpeg delivers (after the container's crop).")
    container_crop: Crop = Field(
        default_factory=Crop,
        description="What FFmpeg crops off the decoded picture (QuickTime clean aperture).")
    sample_aspect_ratio: str | None = Field(
        default=None, description="Pixel aspect as FFmpeg applies it, 'num/den'.")
    display_aspect_ratio: str | None = Field(
        default=None, description="The codec's display aspect of the decoded picture.")
    rotation: int = Field(default=0, description="Degrees the display matrix turns the "
                                                 "picture (FFmpeg applies it).")
    rate: str | None = Field(default=None, description="Frame rate, 'num/den' or an integer; "
                                                       "the average for variable rate.")
    variable_rate: bool = Field(default=False, description="Frames are not evenly spaced.")
    frame_count: int = Field(description="Frames as an editor sees them.")
    frame_count_source: str = Field(
        default="header", description="How frame_count was learnt: index (the file's sample "
        "table, edit list applied), header, duration (duration x constant rate), timestamps "
        "(first to last frame at the rate), packets (counted).")
    ffmpeg_frame_count: int | None = Field(
        default=None, description="Frames FFmpeg would present, when that differs from "
        "frame_count (an edit list ending a fraction of a frame into the last one).")
    duration_s: float | None = Field(default=None, description="Duration of the picture.")
    timecode: str | None = Field(
        default=None, description="Start timecode as MediaInfo and QuickTime read it.")
    ffmpeg_timecode: str | None = Field(
        default=None, description="Start timecode as FFmpeg reads it, when different.")
    timecode_base: int | None = Field(
        default=None, description="Frames per timecode second the timecode track counts.")
    audio: list[AudioInfo] = Field(default_factory=list,
                                   description="Audio streams that hold audio, in order.")
    skipped_audio: list[str] = Field(
        default_factory=list, description="Audio streams left out because they hold none.")
    interlaced: bool = Field(default=False, description="The picture is interlaced.")
    field_order: str = Field(default="unknown",
                             description="progressive, tff, bff or unknown, as the file "
                                         "states it (container, else bitstream).")
    coded_field_order: str | None = Field(
        default=None, description="The decoded frame's own field order (tff or bff), which "
                                  "the container may state otherwise for another raster.")
    colour: Colour = Field(default_factory=Colour,
                           description="Colour codes a decoder uses (bitstream over "
                                       "container).")
    container_colour: Colour = Field(default_factory=Colour,
                                     description="Colour codes the container states.")
    rgb: bool = Field(default=False, description="The picture is RGB, not YUV.")
    truncated: str | None = Field(
        default=None, description="Why the content is shorter than the header says.")

    @property
    def rate_fraction(self) -> Fraction | None:
        return Fraction(self.rate) if self.rate else None

    @property
    def sar(self) -> Fraction:
        sar = Fraction(self.sample_aspect_ratio) if self.sample_aspect_ratio else Fraction(1)
        return sar if sar > 0 else Fraction(1)


def empty_as_none(value: Any) -> Any:
    """Records written before these models kept {} where nothing was known."""
    return None if value == {} else value


# The type a record's probe has: older records' {} reads as None.
RecordedProbe = Annotated[MediaInfo | None, BeforeValidator(empty_as_none)]
