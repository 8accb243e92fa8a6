"""How a training executes, kept apart from what it computes.

The recipe (learning rate, epochs, batch, weight decay, best epoch) is the study's semantics.
The runtime is the compute dtype (fp32, or bf16/fp16 mixed precision), TF32, the optimizer
kernel, host synchronisation, evaluation batching, data loading, threads and CPU numerics: it
changes speed, and on a GPU the last digits of a figure, never what is trained. Each Result
and cache key records the resolved runtime.

This module never imports torch or transformers: a training worker sets the CPU-numerics
environment before torch loads. What the settings resolve to on a device (auto dtype,
TF32, threads) is xner.training.device.resolve.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass, replace

from xner.spec.recipe import SettingError

# `dtype`, not `precision`: a Result's `precision` is entity precision (seqeval's P of P/R/F1).
# bf16 and fp16 are mixed precision (autocast; the weights stay fp32), as Trainer's flags.
DTYPES = ("auto", "fp32", "bf16", "fp16")

# Pinned CPU numerics: the same arithmetic on every x86-64 CPU with AVX2, Intel or AMD, so
# that CPU figures are reproducible bit for bit across machines (with a fixed thread count).
# MKL's only code branch reproducible on non-Intel CPUs is COMPATIBLE; ATen and oneDNN would
# otherwise pick AVX-512 kernels where the CPU has them, which sum in another order.
PORTABLE_ENV = {
    "MKL_CBWR": "COMPATIBLE",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
}


@dataclass(frozen=True)
class Runtime:
    """Execution settings of a training; see the module docstring.

    `optim=None` and `fast=False` leave the Trainer's own defaults (the "plain" baseline).
    """

    dtype: str = "auto"  # auto: bf16 mixed precision on GPUs that have it, fp32 on CPU
    tf32: bool = True  # TF32 matmuls on Ampere and newer GPUs (off in PyTorch by default)
    optim: str | None = "adamw_torch_fused"  # one kernel for the whole AdamW update
    fast: bool = True  # no per-step host sync; length-sorted, large evaluation batches
    eval_batch_size: int = 256
    loader_workers: int | None = None  # None: 2 on CUDA (never starve the GPU), 0 on CPU
    compile: bool = False  # torch.compile; off unless measured to help (README)
    threads: int | None = None  # torch threads per training; None: a share of the cores
    portable: bool = False  # PORTABLE_ENV in every training process (the smoke study)

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise SettingError(
                "dtype", f"unknown dtype {self.dtype!r}; choose one of {', '.join(DTYPES)}"
            )
        for key, least in (("threads", 1), ("eval_batch_size", 1), ("loader_workers", 0)):
            value = getattr(self, key)
            if value is None and key != "eval_batch_size":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise SettingError(key, f"a whole number of at least {least}, got {value!r}")

    def with_options(self, **options) -> Runtime:
        """A copy with the given fields changed; None values leave a field as it is."""
        return replace(self, **{k: v for k, v in options.items() if v is not None})

    def to_dict(self) -> dict:
        return asdict(self)

    def environment(self, jobs: int = 1) -> dict[str, str]:
        """Environment variables a training process needs before torch loads."""
        threads = str(self.threads or cpu_share(jobs))
        env = {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        if self.portable and platform.machine().lower() in ("x86_64", "amd64"):
            env |= PORTABLE_ENV
        return env


# Trainer's defaults: fp32, its default optimizer, a loss check every step, evaluation at
# the recipe's old batch of 64 in dataset order. The baseline of the speed benchmarks.
PLAIN = Runtime(
    dtype="fp32", tf32=False, optim=None, fast=False, eval_batch_size=64, loader_workers=0
)


def cpu_share(jobs: int) -> int:
    """Cores for one of `jobs` concurrent trainings (never fewer than one)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, jobs))


def describe(resolved: dict) -> str:
    """One line for tables: `fp32, fused AdamW, 1 thread, portable CPU numerics`."""
    parts = [str(resolved.get("dtype", "?"))]
    if resolved.get("tf32"):
        parts.append("TF32")
    optim = resolved.get("optim", "trainer default")
    parts.append("fused AdamW" if optim == "adamw_torch_fused" else str(optim))
    parts.append("no per-step sync" if resolved.get("fast") else "Trainer defaults")
    if resolved.get("compile"):
        parts.append("torch.compile")
    threads = resolved.get("threads")
    if threads:
        parts.append(f"{threads} thread{'s' if threads != 1 else ''}")
    if resolved.get("portable"):
        parts.append("portable CPU numerics")
    return ", ".join(parts)
