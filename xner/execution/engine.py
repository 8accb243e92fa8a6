"""The one road from a front (the pytest plugin, `xner run`) to training and to the files:
jobs built the same way, trained in worker processes through the same cache, and every file
of the run written by xner.reporting.output from the same records.

A results folder holds a run: `results.json` and the rest beside `cache/`, one entry per
trained configuration (ConfigId: study, configuration, seed) under a key of everything that
can move its figures (xner.execution.runner.Runner.cache_key: runtime, model, data, xner's
code, ...).
A rerun on the folder trains only what the cache lacks, and its results.json keeps every
record of the folder's earlier run that this run did not redo (per CaseId, the new record
winning), so an interrupted run, run again, ends with the whole study.

Plain data: no torch (the training happens in xner.execution.jobs' worker processes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xner.execution.jobs import Job, Outcome, Workers, run_jobs
from xner.execution.options import cache_folder
from xner.results.records import Result, load_results
from xner.spec.identity import CaseId, Cell, ConfigId

logger = logging.getLogger(__name__)


def run_facts() -> dict:
    """What results.json records of the run as a whole: when, which commit, the library
    versions (xner.results.records.run_facts) and the device, which asks torch."""
    from xner.results.records import run_facts as plain_facts
    from xner.training.device import device_name

    return plain_facts() | {"device": device_name()}


def run_record(front: str, options, studies: Iterable) -> dict:
    """results.json's `run` object, the same keys whichever front wrote it (docs/benchmarks.md,
    "results.json's run object"): `run_facts`, the front, each study's file, model and data
    (after the options' overrides) and recipe, the seeds and shard, and every run option
    (xner.execution.options.RunOptions) as it was given."""
    from dataclasses import asdict

    from xner.execution.options import RUN_OPTIONS

    studies = list(studies)
    asked = {o.dest: getattr(options, o.dest) for o in RUN_OPTIONS}
    for name in ("strategy", "seeds"):
        if asked[name] is not None:
            asked[name] = list(asked[name])
    asked["shard"] = str(options.shard) if options.shard else None
    return run_facts() | {
        "front": front,
        "studies": {
            s.name: {
                "source": s.source,
                "model": options.model or s.model,
                "data": options.data or s.data,
            }
            for s in studies
        },  # fmt: skip
        "recipes": {s.name: asdict(s.recipe) for s in studies},
        "seeds": list(options.seeds),
        "shard": asked["shard"],
        "options": asked,
    }


def trained_summary(trained: Mapping[ConfigId, bool]) -> str:
    """`trained 7 configuration(s), 1 from cache`: of each configuration, whether it trained."""
    count = sum(trained.values())
    return f"trained {count} configuration(s), {len(trained) - count} from cache"


@dataclass
class Engine:
    """Trains, caches and writes one run into one results folder."""

    out: Path
    cache_dir: Path | None = None  # None: `out/cache`
    force: bool = False  # retrain, ignoring (and then replacing) cached entries
    model: str | None = None
    data: str | None = None
    dtype: str | None = None
    compile: bool | None = None
    progress: bool = True
    slot: tuple[int, int] = (0, 1)  # (this process's index, processes training), for GPUs
    trained: dict[ConfigId, bool] = field(default_factory=dict)  # trained (True) or cached
    _workers: Workers | None = None
    _previous: tuple[list[Result], list[dict]] | None = None

    @classmethod
    def of(cls, options, slot: tuple[int, int] = (0, 1)) -> Engine:
        """The engine of a run of `options` (xner.execution.options.RunOptions), either front's."""
        return cls(
            options.results, options.cache, options.force, options.model, options.data,
            options.dtype, options.compile,
            progress=not options.no_progress and options.jobs == 1, slot=slot,
        )  # fmt: skip

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.cache_dir = cache_folder(self.out, self.cache_dir)

    # ---- training ---------------------------------------------------------------------

    def job(self, study, config, seed: int, progress: bool | None = None) -> Job:
        """The Job that trains `config` of `study` (a xner.spec.study.Study) at `seed`, with this
        run's model, data, runtime options and cache."""
        runtime = study.runtime.with_options(dtype=self.dtype, compile=self.compile)
        return Job(
            study.ref, config, seed, runtime, self.model, self.data, str(self.cache_dir),
            self.force, self.progress if progress is None else progress,
        )  # fmt: skip

    def run(self, job: Job, study: str) -> Outcome:
        """One job in this process's worker (one per runtime, started on first use)."""
        outcome = self.recalled(job)
        if outcome is None:
            if self._workers is None:
                self._workers = Workers(*self.slot)
            outcome = self._workers.run(job)
        self.trained[ConfigId.of(study, job.config, job.seed)] = outcome.trained
        return outcome

    def recalled(self, job: Job) -> Outcome | None:
        """The job's cached outcome, read here without a worker (xner.execution.cache), or
        None where the cache index does not answer it (a worker then trains or reads it)."""
        if job.force or job.max_steps is not None or job.cache_dir is None:
            return None
        from xner.execution.cache import recall, request_key
        from xner.spec.study import load_study

        study = load_study(job.study, job.data)
        key = request_key(study, job.config, job.seed, job.runtime, job.model, job.data)
        results = recall(Path(job.cache_dir), key)
        if results is None:
            return None
        return Outcome([r.to_dict() for r in results], trained=False)

    def run_all(
        self,
        jobs: Sequence[tuple[str, Job]],
        workers: int,
        costs: Sequence[float],
        on_done: Callable[[Job, Outcome], None] | None = None,
    ) -> list[Outcome]:
        """(study name, job) pairs on `workers` processes at once, the costliest first."""
        study_of = {id(job): study for study, job in jobs}

        def done(job: Job, outcome: Outcome) -> None:
            self.trained[ConfigId.of(study_of[id(job)], job.config, job.seed)] = outcome.trained
            if on_done is not None:
                on_done(job, outcome)

        # Configurations the cache index answers are read here; only the rest start workers.
        outcomes = {id(job): self.recalled(job) for _, job in jobs}
        for _, job in jobs:
            if outcomes[id(job)] is not None:
                done(job, outcomes[id(job)])
        rest = [
            (job, cost)
            for (_, job), cost in zip(jobs, costs, strict=True)
            if outcomes[id(job)] is None
        ]
        if rest:
            ran = run_jobs([job for job, _ in rest], workers, [cost for _, cost in rest], done)
            outcomes.update((id(job), outcome) for (job, _), outcome in zip(rest, ran, strict=True))
        return [outcomes[id(job)] for _, job in jobs]

    def summary(self) -> str:
        """`trained 7 configuration(s), 1 from cache`."""
        return trained_summary(self.trained)

    def close(self) -> None:
        if self._workers is not None:
            self._workers.close()
            self._workers = None

    # ---- the files ----------------------------------------------------------------------

    def previous(self) -> tuple[list[Result], list[dict]]:
        """The records (results, expected figures) of the folder's earlier run, read once,
        before this run first writes; none where there is no readable results.json."""
        if self._previous is None:
            path = self.out / "results.json"
            self._previous = ([], [])
            if path.is_file():
                try:
                    loaded = load_results(path)
                    self._previous = (loaded.results, loaded.expected)
                except (OSError, ValueError) as err:
                    logger.warning("%s: not kept (%s); this run's records replace it", path, err)
        return self._previous

    def records(
        self, results: Iterable[Result], expected: Iterable[Mapping] = ()
    ) -> tuple[list[Result], list[dict]]:
        """This run's records over the folder's earlier ones: per case the new one wins."""
        old_results, old_expected = self.previous()
        merged = {CaseId.of(r): r for r in old_results}
        merged.update((CaseId.of(r), r) for r in results)
        figures = {Cell.of_record(e): dict(e) for e in old_expected}
        figures.update((Cell.of_record(e), dict(e)) for e in expected)
        cells = {case.cell for case in merged}
        return list(merged.values()), [e for c, e in figures.items() if c in cells]

    def folder_records(
        self, results: Iterable[Result], expected: Iterable[Mapping] = (), resamples=None
    ) -> tuple[list[Result], list[dict]]:
        """What the folder holds once this run's records are in (`records`), with intervals
        of `resamples` where that is not the default (re-derived from the stored counts)."""
        from xner.spec.recipe import BOOTSTRAP_RESAMPLES

        results, expected = self.records(results, expected)
        if resamples is not None and resamples != BOOTSTRAP_RESAMPLES:
            from xner.results.intervals import rebootstrap

            results = rebootstrap(results, resamples)
        return results, expected

    def write(
        self,
        results: Sequence[Result],
        run: Mapping,
        expected: Sequence[Mapping] = (),
        baseline: Sequence[Result] | None = None,
        plots: bool = True,
        resamples: int | None = None,
        findings: Sequence = (),
    ) -> list[Path]:
        """Every file of the run (xner.reporting.output.write_run) from `folder_records`,
        with the verdicts of `findings` (xner.spec.claims.Finding) judged from them."""
        from xner.reporting.output import write_run

        results, expected = self.folder_records(results, expected, resamples)
        return write_run(
            self.out, results, run, expected, baseline, plots=plots, findings=findings,
            predictions_from=[self.cache_dir],
        )  # fmt: skip
