"""stridebeat: cadence click tracks for 400 m runners, rendered to a file or played live.

The public API (see ``stridebeat.api``)::

    import stridebeat

    job = stridebeat.build_job(time=51, steps_per_100m=46)
    stridebeat.render(job, ["race51.wav", "race51.json", "race51.fit"])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

if TYPE_CHECKING:
    from stridebeat.api import (
        Output,
        OutputKind,
        Rendered,
        build_job,
        check_outputs,
        check_preset_name,
        delete_preset,
        list_presets,
        load_preset,
        plan_race,
        preset_settings,
        publish,
        render,
        render_array,
        render_file,
        save_preset,
        stride_model,
        stride_profiles,
        timeline,
    )
    from stridebeat.config.presets import Preset
    from stridebeat.core.schedule import PlannedRace
    from stridebeat.core.session import Job, Rep
    from stridebeat.core.stride import StrideModel
    from stridebeat.errors import StridebeatError, UsageError

# The API loads numpy and the engine; the command line's --help should not. Names resolve on first use (PEP 562).
_EXPORTS = {
    **{
        name: "stridebeat.api"
        for name in (
            "Output",
            "OutputKind",
            "Rendered",
            "build_job",
            "check_outputs",
            "check_preset_name",
            "delete_preset",
            "list_presets",
            "load_preset",
            "plan_race",
            "preset_settings",
            "publish",
            "render",
            "render_array",
            "render_file",
            "save_preset",
            "stride_model",
            "stride_profiles",
            "timeline",
        )
    },
    "Job": "stridebeat.core.session",
    "Rep": "stridebeat.core.session",
    "Preset": "stridebeat.config.presets",
    "PlannedRace": "stridebeat.core.schedule",
    "StrideModel": "stridebeat.core.stride",
    "StridebeatError": "stridebeat.errors",
    "UsageError": "stridebeat.errors",
}
__all__ = [
    "Job",
    "Output",
    "OutputKind",
    "PlannedRace",
    "Preset",
    "Rendered",
    "Rep",
    "StrideModel",
    "StridebeatError",
    "UsageError",
    "build_job",
    "check_outputs",
    "check_preset_name",
    "delete_preset",
    "list_presets",
    "load_preset",
    "plan_race",
    "preset_settings",
    "publish",
    "render",
    "render_array",
    "render_file",
    "save_preset",
    "stride_model",
    "stride_profiles",
    "timeline",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stridebeat' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
