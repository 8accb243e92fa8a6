"""Worker processes: what each is started with, and how a job travels to it."""

from xner.jobs import Job, worker_environment
from xner.runtime import Runtime
from xner.study import load_study


def test_worker_k_gets_gpu_k_mod_g_of_the_visible_ones(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    gpus = [worker_environment(Runtime(), slot, 3)["CUDA_VISIBLE_DEVICES"] for slot in range(3)]
    assert gpus == ["3", "5", "3"], "several workers share a GPU when there are more of them"


def test_no_gpu_leaves_cuda_alone(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert worker_environment(Runtime(), 1, 2)["CUDA_VISIBLE_DEVICES"] == ""


def test_a_job_survives_the_trip_to_its_worker():
    config = load_study("smoke").strategies["few-shot"].configs()[2]
    job = Job("smoke", config, 3, Runtime(threads=1, portable=True), "tiny", "/data", "/c",
              force=True, progress=False, max_steps=7)  # fmt: skip
    assert Job.from_json(job.to_json()) == job
