"""Training configurations in worker processes, one or several at once.

Every training runs in a child process (`python -m xner.execution.jobs`) started with the
environment its runtime needs before torch loads: its share of the CPU cores, pinned CPU
numerics for the smoke study, and its GPU (worker k on GPU k mod G). The parent sends one
job per line of JSON on the child's stdin and reads one reply per line; the child's own output
goes to stderr. A child keeps its encoded data between jobs, so a language is encoded once per
worker.

`run_jobs` hands jobs to N workers longest first, so a suite takes about as long as its longest
training; `Workers` gives the pytest plugin one child per runtime in each pytest process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from xner.errors import XnerError
from xner.spec.runtime import Runtime
from xner.spec.strategies import TrainConfig


class WorkerError(XnerError, RuntimeError):
    """A job that failed in its worker; the message is the worker's one-line reason."""


@dataclass(frozen=True)
class Job:
    """One training configuration of one study and seed, and where its results are cached."""

    study: str  # a built-in study's name or a study file's path (xner.spec.study.Study.ref)
    config: TrainConfig
    seed: int = 0
    runtime: Runtime = field(default_factory=Runtime)
    model: str | None = None
    data: str | None = None
    cache_dir: str | None = None
    force: bool = False
    progress: bool = True
    max_steps: int | None = None  # cut trainings short, for timing only (nothing cached)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        config = data.pop("config")
        config["train_langs"] = tuple(config["train_langs"])
        config["eval_langs"] = tuple(config["eval_langs"])
        return cls(config=TrainConfig(**config), runtime=Runtime(**data.pop("runtime")), **data)


@dataclass(frozen=True)
class Outcome:
    """A job's results (Result dicts, one per evaluation language), whether it trained, and
    the worker's peak memory so far (`rss_mib`, and `gpu_mib` on a GPU)."""

    results: list[dict]
    trained: bool
    peak: dict = field(default_factory=dict)


def visible_gpus() -> list[str]:
    """The GPUs this process may use, as CUDA_VISIBLE_DEVICES entries (empty on a CPU)."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [gpu.strip() for gpu in listed.split(",") if gpu.strip()]
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]


def worker_environment(runtime: Runtime, slot: int, jobs: int) -> dict[str, str]:
    """The environment of worker `slot` of `jobs`: threads, CPU numerics, its GPU."""
    env = dict(os.environ) | runtime.environment(jobs)
    gpus = visible_gpus()
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = gpus[slot % len(gpus)]
    return env


class Worker:
    """One child process that trains and scores jobs, one at a time."""

    def __init__(self, runtime: Runtime, slot: int = 0, jobs: int = 1):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "xner.execution.jobs"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=worker_environment(runtime, slot, jobs),
            text=True,
        )
        self.busy = False  # a job sent and its reply not yet read

    def run(self, job: Job) -> Outcome:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.busy = True
        try:
            self.process.stdin.write(job.to_json() + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # the child is gone; readline below says so
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            raise WorkerError(
                f"the training worker of {job.config.label} (seed {job.seed}) stopped with "
                f"exit code {code}; its output is above"
            )
        self.busy = False
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(reply["error"])
        return Outcome(reply["results"], reply["trained"], reply.get("peak", {}))

    def close(self) -> None:
        """Let an idle child finish; end one still busy with a job (the run was
        interrupted: its training is lost, the ones before it are cached)."""
        if self.process.poll() is None:
            if self.busy:
                self.process.terminate()
            else:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=5 if self.busy else 30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Workers:
    """One worker per runtime, started on first use (the pytest plugin's, per process)."""

    def __init__(self, slot: int = 0, jobs: int = 1):
        self.slot, self.jobs = slot, jobs
        self.workers: dict[Runtime, Worker] = {}

    def run(self, job: Job) -> Outcome:
        if job.runtime not in self.workers:
            self.workers[job.runtime] = Worker(job.runtime, self.slot, self.jobs)
        return self.workers[job.runtime].run(job)

    def interrupt(self) -> None:
        """End the children busy with a job now (from another thread than the one that
        waits on them: it sees them gone, and closes this pool)."""
        for worker in list(self.workers.values()):
            if worker.busy and worker.process.poll() is None:
                worker.process.terminate()

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()
        self.workers.clear()


def run_jobs(
    jobs: Sequence[Job],
    workers: int,
    costs: Sequence[float],
    on_done: Callable[[Job, Outcome], None] | None = None,
) -> list[Outcome]:
    """Run `jobs` on `workers` processes, the costliest first; outcomes in the jobs' order.

    The first failure stops handing out work and is raised once the running jobs end.
    """
    order = sorted(range(len(jobs)), key=lambda i: (-costs[i], i))
    outcomes: list[Outcome | None] = [None] * len(jobs)
    failures: list[BaseException] = []
    lock = threading.Lock()
    pools: list[Workers] = []

    def serve(slot: int) -> None:
        pool = Workers(slot, workers)
        with lock:
            pools.append(pool)
        try:
            while True:
                with lock:
                    if failures or not order:
                        return
                    index = order.pop(0)
                try:
                    outcomes[index] = pool.run(jobs[index])
                except BaseException as err:
                    with lock:
                        failures.append(err)
                    return
                if on_done is not None:
                    with lock:
                        on_done(jobs[index], outcomes[index])
        finally:
            pool.close()

    threads = [threading.Thread(target=serve, args=(slot,)) for slot in range(workers)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C or SIGTERM in this thread: end the workers, then stop
        with lock:
            order.clear()
            for pool in pools:
                pool.interrupt()
        for thread in threads:
            thread.join()
        raise
    if failures:
        raise failures[0]
    return [outcome for outcome in outcomes if outcome is not None]


# ---- the child --------------------------------------------------------------------------


def _watch_parent(interval: float = 0.25) -> None:
    """End this worker as soon as its parent is gone (killed with -9, say), instead of
    training on for nobody: a thread polls the parent's pid, portable to every POSIX system.
    Ctrl-C is the parent's to handle: it ends its workers itself, without their tracebacks."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="xner-parent-watch", daemon=True).start()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _serve() -> None:
    """The worker's loop: a job per stdin line, a reply per line on the original stdout."""
    _watch_parent()
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # prints must not corrupt the replies
    import datasets

    from xner.data.hub import HubUnreachableError
    from xner.execution.runner import Runner
    from xner.results.records import Result
    from xner.spec.study import load_study

    datasets.disable_progress_bars()
    runners: dict[tuple, Runner] = {}
    for line in sys.stdin:
        job = Job.from_json(line)
        key = (job.study, job.model, job.data, job.cache_dir, job.force, job.runtime,
               job.max_steps)  # fmt: skip
        try:
            if key not in runners:
                runners.clear()  # one at a time: its encoded data can be large
                runners[key] = Runner(
                    load_study(job.study, job.data), job.model, job.data, cache_dir=job.cache_dir,
                    force=job.force, progress=job.progress, runtime=job.runtime,
                    max_steps=job.max_steps,
                )  # fmt: skip
            runner = runners[key]
            runner.progress = job.progress
            trained_before = len(runner.trained_labels)
            results: list[Result] = runner.run(job.config, job.seed)
            reply = {
                "results": [r.to_dict() for r in results],
                "trained": len(runner.trained_labels) > trained_before,
                "peak": peak_memory(),
            }
        except (HubUnreachableError, OSError, ValueError, KeyError) as err:
            message = err.args[0] if isinstance(err, KeyError) and err.args else err
            reply = {"error": str(message)}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def peak_memory() -> dict:
    """This process's peak resident memory, and peak GPU memory allocated where there is one."""
    import resource

    import torch

    peak = {"rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if torch.cuda.is_available():
        peak["gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return peak


if __name__ == "__main__":
    _serve()
