"""Colour codes (ITU-T H.273, as FFmpeg names them) and which of them mean the same thing.

Pure data and pure functions: the probe turns PyAV's integers into these names, the rules pick
the codes a proxy states, the argv builder writes them, verification compares them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

UNKNOWN = "unknown"

# H.273 code → the name FFmpeg's options (setparams, -color_primaries ...) take.
PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film",
             9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213"}
TRANSFERS = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
             8: "linear", 9: "log100", 10: "log316", 11: "iec61966-2-4", 12: "bt1361e",
             13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084",
             17: "smpte428", 18: "arib-std-b67"}
MATRICES = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
            8: "ycgco", 9: "bt2020nc", 10: "bt2020c", 11: "smpte2085",
            12: "chroma-derived-nc", 13: "chroma-derived-c", 14: "ictcp"}
RANGES = {1: "tv", 2: "pc"}

# Codes that describe the same numbers, so writing one for the other changes nothing:
# SMPTE 240M primaries are SMPTE C (= 170M); BT.601, BT.709 and BT.2020 share one transfer
# curve (xvYCC extends it below 0 and above 1 only); BT.470BG and 170M are both BT.601's
# matrix. Listed in the order a replacement is tried.
EQUIVALENT: dict[str, dict[str, tuple[str, ...]]] = {
    "primaries": {"smpte240m": ("smpte170m",), "smpte170m": ("smpte240m",)},
    "transfer": {
        "smpte170m": ("bt709", "bt2020-10"),
        "bt2020-10": ("bt709", "smpte170m"),
        "bt2020-12": ("bt709", "bt2020-10", "smpte170m"),
        "bt1361e": ("bt709", "smpte170m"),
        "iec61966-2-4": ("bt709", "smpte170m"),
        "bt709": ("smpte170m", "bt2020-10"),
    },
    "matrix": {"bt470bg": ("smpte170m",), "smpte170m": ("bt470bg",)},
}
# The nearest code when no equal one can be written: the picture changes a little (matrices
# are converted by the scaler, so only primaries and transfer approximations change colour).
NEAREST: dict[str, dict[str, tuple[str, ...]]] = {
    "primaries": {"bt470m": ("smpte170m", "bt470bg"), "film": ("bt709",),
                  "ebu3213": ("bt470bg", "smpte170m"), "smpte428": ("bt709",)},
    "transfer": {"bt470bg": ("bt709", "smpte170m"), "bt470m": ("bt709", "smpte170m"),
                 "smpte240m": ("bt709",), "iec61966-2-1": ("bt709",), "linear": ("bt709",),
                 "log100": ("bt709",), "log316": ("bt709",), "smpte428": ("bt709",)},
    "matrix": {"fcc": ("smpte170m", "bt470bg"), "smpte240m": ("bt709",),
               "bt2020c": ("bt2020nc",)},
}
# The matrix names FFmpeg's scaler takes for in_color_matrix / out_color_matrix; a matrix it
# does not know cannot be converted, only relabelled.
SCALER_MATRIX = {"bt709": "bt709", "bt470bg": "bt470", "smpte170m": "smpte170m", "fcc": "fcc",
                 "smpte240m": "smpte240m", "bt2020nc": "bt2020", "bt2020c": "bt2020"}

FIELDS = ("primaries", "transfer", "matrix", "range")


class Colour(BaseModel):
    """The four colour codes of a picture, as FFmpeg names them ("unknown": not stated)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    primaries: str = Field(default=UNKNOWN, description="Colour primaries (H.273), e.g. bt709.")
    transfer: str = Field(default=UNKNOWN,
                          description="Transfer characteristics (H.273), e.g. bt709, "
                                      "smpte2084 (PQ), arib-std-b67 (HLG).")
    matrix: str = Field(default=UNKNOWN,
                        description="Matrix coefficients (H.273), e.g. bt709, smpte170m, gbr.")
    range: str = Field(default=UNKNOWN, description="tv (limited) or pc (full).")

    def get(self, field: str) -> str:
        return str(getattr(self, field))

    def only(self, fields: tuple[str, ...] | frozenset[str]) -> dict[str, str]:
        """The named fields, in the usual order, as a plain dict (for records)."""
        return {f: self.get(f) for f in FIELDS if f in fields}


def from_codes(primaries: int | None, transfer: int | None, matrix: int | None,
               range_: int | None) -> Colour:
    """PyAV's integers → names; codes FFmpeg calls unspecified or reserved are 'unknown'."""
    return Colour(
        primaries=PRIMARIES.get(primaries or 2, UNKNOWN),
        transfer=TRANSFERS.get(transfer or 2, UNKNOWN),
        matrix=MATRICES.get(matrix if matrix is not None else 2, UNKNOWN),
        range=RANGES.get(range_ or 0, UNKNOWN),
    )


def same_code(field: str, a: str, b: str) -> bool:
    """Do two codes of `field` describe the same numbers?"""
    return a == b or b in EQUIVALENT.get(field, {}).get(a, ())
