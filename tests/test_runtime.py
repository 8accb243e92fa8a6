"""Runtime settings: validation, how they resolve on this machine, the worker environment."""

import platform

import pytest
import torch

from xner.spec.runtime import PLAIN, PORTABLE_ENV, Runtime, cpu_share, describe
from xner.training.device import resolve

# What transformers, tokenizers and datasets do: run on every tox line (tox.ini).
pytestmark = pytest.mark.release


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="unknown dtype 'fp8'"):
        Runtime(dtype="fp8")
    with pytest.raises(ValueError, match="threads: a whole number of at least 1, got 0"):
        Runtime(threads=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU resolution")
def test_auto_is_fp32_on_a_cpu_and_fp16_is_refused():
    resolved = resolve(Runtime())
    assert resolved["dtype"] == "fp32" and resolved["tf32"] is False
    assert resolved["loader_workers"] == 0 and resolved["threads"] == torch.get_num_threads()
    with pytest.raises(ValueError, match="fp16 needs a CUDA GPU"):
        resolve(Runtime(dtype="fp16"))


def test_worker_environment_fixes_threads_and_numerics():
    env = Runtime(threads=1, portable=True).environment(jobs=2)
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    if platform.machine() in ("x86_64", "AMD64"):
        assert {k: env[k] for k in PORTABLE_ENV} == PORTABLE_ENV
    shared = Runtime().environment(jobs=2)
    assert shared["OMP_NUM_THREADS"] == str(cpu_share(2)) and "MKL_CBWR" not in shared


def test_with_options_keeps_unset_fields():
    runtime = Runtime(threads=1, portable=True).with_options(dtype="bf16", compile=None)
    assert (runtime.dtype, runtime.threads, runtime.portable, runtime.compile) == (
        "bf16", 1, True, False
    )  # fmt: skip


def test_plain_is_the_trainers_defaults_and_tables_say_so():
    assert (PLAIN.optim, PLAIN.fast, PLAIN.dtype, PLAIN.tf32) == (None, False, "fp32", False)
    text = describe({"dtype": "bf16", "tf32": True, "optim": "adamw_torch_fused",
                     "fast": True, "threads": 1, "portable": False})  # fmt: skip
    assert text == "bf16, TF32, fused AdamW, no per-step sync, 1 thread"
