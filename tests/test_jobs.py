"""Worker processes: what each is started with, and how a job travels to it."""

import pytest

from xner.execution.jobs import Job, visible_gpus, worker_environment
from xner.spec.runtime import Runtime
from xner.spec.study import load_study


def test_worker_k_gets_gpu_k_mod_g_of_the_visible_ones(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    gpus = [worker_environment(Runtime(), slot, 3)["CUDA_VISIBLE_DEVICES"] for slot in range(3)]
    assert gpus == ["3", "5", "3"], "several workers share a GPU when there are more of them"


@pytest.mark.parametrize("listed", ["", " , ", ","])
def test_an_empty_gpu_list_is_no_gpu(monkeypatch, listed):
    """CUDA_VISIBLE_DEVICES="" hides every GPU: no worker may be handed one (an index taken
    from torch's count would be), and the parent's setting reaches the worker unchanged."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", listed)
    assert visible_gpus() == []
    assert worker_environment(Runtime(), 1, 2)["CUDA_VISIBLE_DEVICES"] == listed


def test_gpus_are_read_from_the_variable_as_listed(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-1a2b, 7")
    assert visible_gpus() == ["GPU-1a2b", "7"]
    assert worker_environment(Runtime(), 1, 2)["CUDA_VISIBLE_DEVICES"] == "7"


def test_no_gpu_leaves_cuda_alone(monkeypatch):
    """Without the variable and without a GPU, a worker gets no CUDA_VISIBLE_DEVICES at all."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks a machine without GPUs")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert visible_gpus() == []
    assert "CUDA_VISIBLE_DEVICES" not in worker_environment(Runtime(), 1, 2)


def test_a_job_survives_the_trip_to_its_worker():
    config = load_study("smoke").strategies["few-shot"].configs()[2]
    job = Job("smoke", config, 3, Runtime(threads=1, portable=True), "tiny", "/data", "/c",
              force=True, progress=False, max_steps=7)  # fmt: skip
    assert Job.from_json(job.to_json()) == job
