"""The runtime settings as they apply on this process's device: what a Result records and the
Trainer is given. Apart from xner.spec.runtime, which is plain data, because it asks torch."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from xner.spec.runtime import PORTABLE_ENV, Runtime


def resolve(runtime: Runtime) -> dict:
    """The settings as they apply on this process's device: what a Result records.

    Raises ValueError for a dtype the device cannot run (fp16 on a CPU, bf16 on a GPU
    without it).
    """
    import torch

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
    in each Result's runtime.

    Without an NVIDIA driver (neither its /proc entry nor its device node, which containers
    given a GPU also have), or with no GPU visible, torch sees no GPU: the CPU's name is read
    without importing torch (seconds a run that trains nothing would spend on it)."""
    driver = Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidiactl").exists()
    if os.environ.get("CUDA_VISIBLE_DEVICES") == "" or not driver:
        return f"cpu:{_cpu_model()}"
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
