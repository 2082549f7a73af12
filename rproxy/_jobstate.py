"""A job's folder of state, ``<output_dir>/.rproxy/<job_id>/``: which spec it is (job.json), the
run in progress or last made (run.json), the clip records, the result, the partial files.

A spec edited into a new job id leaves its old folder behind: the next run removes it (the
proxies it made stay, and are reused, through the folder's entries). A job id written in a
spec that another spec of the folder already uses is refused, naming both."""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from ._errors import Problem
from ._files import write_json_atomic
from ._lock import job_is_locked
from ._plan import Plan


class JobInfo(BaseModel):
    """job.json: which spec a job folder belongs to."""

    job_id: str
    identity: str = Field(description="The spec's file relative to the output folder "
                                      "(spec:...), or job:<id> for a spec without a file.")
    spec: str = Field(description="The spec's name.")
    cleaned_at: datetime | None = Field(default=None, description="When `doit clean` removed "
                                                                  "its proxies and records.")


class JobRun(BaseModel):
    """run.json: the run that is making (or last made) this job's proxies."""

    run_id: str
    pid: int
    started_at: datetime


def _read(path: Path, model: type[BaseModel]) -> BaseModel | None:
    try:
        return model.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError):
        return None


def read_info(path: Path) -> JobInfo | None:
    info = _read(path, JobInfo)
    return info if isinstance(info, JobInfo) else None


def read_run(plan: Plan) -> JobRun | None:
    run = _read(plan.run_path, JobRun)
    return run if isinstance(run, JobRun) else None


def write_run(plan: Plan, run: JobRun) -> None:
    write_json_atomic(plan.run_path, run)


def job_id_problem(plan: Plan) -> Problem | None:
    """A job id written in the spec that another, still existing, spec of this output folder
    uses: two specs would share one state folder (and one lock, and one result)."""
    if plan.spec.job_id is None:  # derived from the content: the same id is the same job
        return None
    info = read_info(plan.info_path)
    if info is None or info.identity == plan.identity or not info.identity.startswith("spec:"):
        return None
    other = Path(os.path.normpath(os.path.join(plan.output_dir, info.identity[5:])))
    if plan.spec.spec_file is not None and other == plan.spec.spec_file:
        return None
    if not other.is_file():
        return None  # that spec is gone (renamed or deleted): this one takes the id over
    return Problem("job_id", f"job id {plan.job_id} is already used in {plan.output_dir} by "
                             f"the spec {other}; give this spec its own job_id, or leave the "
                             "field out (rproxy derives one from the content)")


def write_info(plan: Plan, *, cleaned: bool = False) -> None:
    """Only under the folder's lock."""
    info = JobInfo(job_id=plan.job_id, identity=plan.identity, spec=plan.name,
                   cleaned_at=datetime.now(UTC) if cleaned else None)
    write_json_atomic(plan.info_path, info)


def stale_job_dirs(plan: Plan) -> list[Path]:
    """Folders of earlier versions of this spec (same identity, another job id) that no run
    holds."""
    found = []
    for info_path in sorted(plan.folder.root.glob("*/job.json")):
        info = read_info(info_path)
        if (info is not None and info.identity == plan.identity
                and info.job_id != plan.job_id and not job_is_locked(info_path.parent / "lock")):
            found.append(info_path.parent)
    return found


def remove_job_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        shutil.rmtree(path)
