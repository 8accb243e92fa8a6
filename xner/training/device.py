"""The runtime settings as they apply on this process's device: what a Result records and the
Trainer is given. Apart from xner.spec.runtime, which is plain data, because it asks torch."""

from __future__ import annotations

import os
import platform

import torch

from xner.spec.runtime import PORTABLE_ENV, Runtime


def resolve(runtime: Runtime) -> dict:
    """The settings as they apply on this process's device: what a Result records.

    Raises ValueError for a dtype the device cannot run (fp16 on a CPU, bf16 on a GPU
    without it).
    """
    cuda = torch.cuda.is_available()
    dtype = runtime.dtype
    if dtype == "auto":
        dtype = "bf16" if cuda and torch.cuda.is_bf16_supported() else "fp32"
    if dtype == "fp16" and not cuda:
        raise ValueError("dtype fp16 needs a CUDA GPU; use fp32 or bf16 on a CPU")
    if dtype == "bf16" and cuda and not torch.cuda.is_bf16_supported():
        raise ValueError(f"{torch.cuda.get_device_name(0)} has no bf16; use fp16 or fp32")
    tf32 = runtime.tf32 and cuda and torch.cuda.get_device_capability(0)[0] >= 8
    portable = runtime.portable and os.environ.get("MKL_CBWR") == PORTABLE_ENV["MKL_CBWR"]
    return {
        "dtype": dtype,
        "tf32": tf32,
        "optim": runtime.optim or "trainer default",
        "fast": runtime.fast,
        "eval_batch_size": runtime.eval_batch_size,
        "loader_workers": loader_workers(runtime, cuda),
        "compile": runtime.compile,
        "threads": torch.get_num_threads(),
        "portable": portable,
    }


def loader_workers(runtime: Runtime, cuda: bool) -> int:
    if runtime.loader_workers is not None:
        return runtime.loader_workers
    return 2 if cuda else 0


def device_name() -> str:
    """`cuda:<GPU name>` when CUDA is used, else `cpu:<CPU model>`; threads and numerics are
    in each Result's runtime."""
    import torch

    if torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(0)}"
    return f"cpu:{_cpu_model()}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
