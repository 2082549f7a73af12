"""What verification found, as the records keep it: every check with its expected and found
values. Data only (no PyAV); ``_verify`` fills it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, JsonValue

from ._media import MediaInfo, empty_as_none


class Check(BaseModel):
    """One thing verified: what was expected, what was found, and whether they agree."""

    expected: JsonValue = Field(description="What the spec and the source require.")
    found: JsonValue = Field(description="What the proxy has.")
    ok: bool = Field(description="Whether found meets expected.")


class Verification(BaseModel):
    """What was checked on a proxy, and what was found."""

    ok: bool = Field(description="Every check passed.")
    checks: dict[str, Check] = Field(default_factory=dict,
                                     description="Each check by name.")
    notes: list[str] = Field(default_factory=list,
                             description="What changed on the way, in words (crop, colour "
                                         "codes, deinterlacing, resampling ...).")
    interlace: str | None = Field(default=None,
                                  description="What happened to the source's fields.")
    output: MediaInfo | None = Field(default=None, description="The probe of the proxy.")
    verify_ms: float | None = Field(default=None, description="What verifying cost, in ms.")


# The type a record's verification has: older records' {} reads as None.
RecordedVerification = Annotated[Verification | None, BeforeValidator(empty_as_none)]
