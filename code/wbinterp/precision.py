"""Training precision: bfloat16 matrix multiplies where the machine runs them faster.

Training runs its forward and backward passes under ``torch.autocast`` with bfloat16
when the machine has bfloat16 matrix-multiply hardware (an x86 CPU with AVX-512 BF16
or AMX, a CUDA GPU that supports bfloat16), and in float32 elsewhere. Only the
matrix multiplies drop to bfloat16: the weights, their gradients and the optimizer's
state stay float32, and every analysis (spectra, certificates, exactness checks,
evaluation) runs in float32 or float64 outside autocast.

Which precision trained a model is recorded in its training record and enters its
store key (:mod:`wbinterp.store`).
"""

from __future__ import annotations

import contextlib
import os
from functools import cache
from pathlib import Path
from typing import Literal, cast, get_args

import torch

Precision = Literal["float32", "bfloat16"]
#: Environment variable that forces one precision for training on this machine.
PRECISION_ENV = "WBINTERP_PRECISION"
#: x86 CPU flags (``/proc/cpuinfo``) for bfloat16 matrix-multiply instructions.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def check(precision: object) -> Precision:
    """``precision`` if it is one this package trains in, else one clear
    ``ValueError``."""
    if precision not in get_args(Precision):
        raise ValueError(
            f"unknown precision {precision!r}; choose one of {', '.join(get_args(Precision))}"
        )
    return cast(Precision, precision)


def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU's flags include bfloat16 matrix-multiply instructions (Linux on
    x86; elsewhere, where the flags cannot be read, ``False``)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return any(flag in line.split() for flag in BF16_CPU_FLAGS)
    return False


@cache
def _machine_default(device_type: str) -> Precision:
    if device_type == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    if device_type == "cpu":
        return "bfloat16" if cpu_has_bf16() else "float32"
    return "float32"


def forced() -> Precision | None:
    """The precision ``$WBINTERP_PRECISION`` forces, or ``None`` when it is unset or
    empty."""
    value = os.environ.get(PRECISION_ENV, "").strip()
    if not value:
        return None
    if value not in get_args(Precision):
        raise ValueError(
            f"${PRECISION_ENV} is {value!r}; set it to {' or '.join(get_args(Precision))}, or unset it"
        )
    return cast(Precision, value)


def preferred(device: torch.device | str = "cpu") -> Precision:
    """The precision training uses on ``device``: ``$WBINTERP_PRECISION`` if set, else
    bfloat16 where the hardware has bfloat16 matrix multiplies, else float32."""
    return forced() or _machine_default(torch.device(device).type)


def other(precision: Precision) -> Precision:
    """The precision that is not ``precision``."""
    return "float32" if check(precision) == "bfloat16" else "bfloat16"


def autocast(
    precision: Precision, device: torch.device | str = "cpu"
) -> contextlib.AbstractContextManager:
    """The context a training step runs in: bfloat16 autocast, or nothing for
    float32."""
    if check(precision) == "float32":
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
