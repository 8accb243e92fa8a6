"""The plugin's state: one XnerSession per pytest process, kept in `config.stash[STATE]`, and
the records the controller gathers from every test report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import pytest

from xner.spec.recipe import BOOTSTRAP_RESAMPLES

# The user property under which a case's Result travels from its (xdist) worker's report to
# the controller.
RESULT_PROPERTY = "xner_result"
PLAN_PROPERTY = "xner_plan"  # a shard's run.plan (xner.execution.shard_plan), on each case


@dataclass
class Record:
    """One measured case as the controller received it."""

    nodeid: str
    result: dict
    expected: dict | None = None


@dataclass
class XnerSession:
    """Everything the plugin keeps for one pytest session."""

    config: pytest.Config
    results_dir: Path
    seeds: list[int]
    model: str | None
    data: str | None
    compare_path: Path | None
    compare_fail: float
    studies: dict = field(default_factory=dict)  # name -> xner.spec.study.Study whose cases run
    unsuited: dict = field(default_factory=dict)  # built-in study -> why --xner-data fails it
    require_expected: bool = False
    bootstrap: int = BOOTSTRAP_RESAMPLES  # resamples of each F1's interval (0: none)
    compare_plain: bool = False  # --xner-compare by the plain threshold, without the paired test
    dtype: str | None = None
    compile: bool | None = None
    shard: object = None  # xner.execution.schedule.Shard, or None for every case
    baseline: list | None = None  # the --xner-compare run, read once before any case
    records: list[Record] = field(default_factory=list)
    outcomes: dict = field(default_factory=dict)  # xner.spec.identity.ConfigId -> its Results
    engine: object = (
        None  # xner.execution.engine.Engine: training, cache and files, as `xner run`'s
    )
    trained: dict = field(default_factory=dict)  # ConfigId -> trained (True) or cached, as
    # the workers reported it
    regressions: list[str] = field(default_factory=list)
    expected_files: dict = field(default_factory=dict)  # path -> xner.spec.expected.Expected
    written: list[Path] = field(default_factory=list)
    write_error: str | None = None  # the first result file that could not be written
    lock: object = None  # the xner.reporting.output.FolderLock on results_dir, on the controller
    timed: set = field(default_factory=set)  # ConfigIds whose training has a row
    kept: Path | None = None  # the history store's subfolder this run was kept in (--xner-keep)
    plan: dict | None = None  # a shard's run.plan, from the reports of its cases

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def worker_slot(self) -> tuple[int, int]:
        """(this process's index, number of processes training): gw3 of -n 8 is (3, 8)."""
        if not self.is_worker:
            return 0, 1
        info = self.config.workerinput
        return int(info["workerid"].lstrip("gw") or 0), int(info.get("workercount", 1))

    def job(self, study: str, config, seed: int):
        """The xner.execution.jobs.Job that trains `config` of `study` with this session's
        options."""
        return self.engine.job(self.studies[study], config, seed)

    def score(self, study: str, config, seed: int, lang: str):
        """The Result of `config` on `lang`: from the cache, or trained (once per process,
        with every evaluation language) in this process's worker, the first time a case of
        it asks; through the same engine as `xner run`."""
        from xner.spec.identity import ConfigId

        key = ConfigId.of(study, config, seed)
        if key not in self.outcomes:
            from xner.results.records import Result

            outcome = self.engine.run(self.job(study, config, seed), study)
            self.outcomes[key] = [Result.from_dict(r) for r in outcome.results]
        return next(r for r in self.outcomes[key] if r.eval_lang == lang)

    def hold_folder(self) -> None:
        """Take the results folder for this session, as `xner run` does, before anything
        trains: a second session on it stops at once, naming the process that holds it,
        instead of interleaving its result files with this one's."""
        if self.lock is not None:
            return
        from xner.reporting.output import FolderLock, check_writable

        try:
            self.lock = FolderLock(check_writable(self.results_dir)).__enter__()
        except OSError as err:
            raise pytest.UsageError(f"xner: {err}") from None

    def release_folder(self) -> None:
        if self.lock is not None:
            self.lock.__exit__(None, None, None)
            self.lock = None

    def results(self):
        """This session's Results (with --xner-bootstrap's intervals)."""
        from xner.results.records import Result

        results = [Result.from_dict(r.result) for r in self.records]
        if self.bootstrap != BOOTSTRAP_RESAMPLES:
            from xner.results.intervals import rebootstrap

            results = rebootstrap(results, self.bootstrap)
        return results

    def folder_records(self):
        """The results folder's records once this session's are in: the earlier run's that
        this session did not redo, and this session's (xner.execution.engine.Engine.records)."""
        from xner.results.records import Result

        session = [Result.from_dict(r.result) for r in self.records]
        return self.engine.folder_records(session, self.expected(), self.bootstrap)

    def trained_summary(self) -> str | None:
        """`trained 7 configuration(s), 1 from cache`, from what every process reported
        (None where nothing reported: no case trained through the engine)."""
        from xner.execution.engine import trained_summary

        return trained_summary(self.trained) if self.trained else None

    def expected(self) -> list[dict]:
        """Expected-figure records of the measured cells, as results.json keeps them."""
        from xner.reporting.output import expected_record
        from xner.results.records import Result

        return [
            expected_record(Result.from_dict(r.result), r.expected)
            for r in self.records
            if r.expected is not None
        ]

    def suspects(self) -> list[str]:
        return [
            f"{r.nodeid}: F1 {r.result['f1']:.4f} is far above the expected "
            f"{r.expected['f1']:.4f}{' (' + r.expected['why'] + ')' if r.expected['why'] else ''}"
            for r in self.records
            if r.expected is not None and r.expected.get("suspect")
        ]

    @cached_property
    def run_facts(self) -> dict:
        from xner.execution.engine import run_facts

        return run_facts() | {
            "seeds": self.seeds,
            "model": self.model,
            "data": self.data,
            "studies": {name: study.source for name, study in self.studies.items()},
            "recipes": {name: asdict(study.recipe) for name, study in self.studies.items()},
            "shard": str(self.shard) if self.shard else None,
        }

    def shard_plan(self, costs: dict[str, float], studies: set[str]) -> dict:
        """What this shard records of the plan it was cut from (xner.execution.shard_plan):
        the collected cases' configurations (`costs`: name -> cost) of `studies`, before
        the shard took its share."""
        from xner.execution.shard_plan import shard_plan

        studies = [self.studies[name] for name in sorted(studies)]
        options = {"dtype": self.dtype, "compile": self.compile}
        return shard_plan(studies, self.shard, self.seeds, self.model, self.data, options,
                          costs)  # fmt: skip

    def write_results(self, plots: bool = False) -> None:
        """Every file of the run, through xner's one writer; plots only at the end."""
        from xner.results.records import Result

        session = [Result.from_dict(r.result) for r in self.records]
        facts = self.run_facts | ({"plan": self.plan} if self.plan else {})
        findings = [f for study in self.studies.values() for f in study.findings]
        self.written = self.engine.write(
            session, facts, self.expected(), self.baseline, plots=plots,
            resamples=self.bootstrap, findings=findings,
        )  # fmt: skip

    def compare(self) -> None:
        """Cells whose F1 fell by more than the allowance against the saved run and, where
        both scored the same test sentences, significantly so by a paired bootstrap."""
        if self.baseline is None:
            return
        from xner.reporting.compare import compare_runs

        comparisons = compare_runs(self.baseline, self.results(), max(self.bootstrap, 1))
        several = len({c.cell.study for c in comparisons}) > 1  # then each line names its own
        for c in comparisons:
            if c.fell(self.compare_fail, plain=self.compare_plain):
                paired = f"; paired bootstrap {c.difference}" if c.difference else ""
                study = f"{c.cell.study} " if several else ""
                # Where to look next: the sentences that changed (xner.reporting.diff).
                why = (
                    f"; why: xner diff {self.compare_path} {self.engine.out / 'results.json'} "
                    f"--cell '{c.cell.strategy} {c.cell.key}'"
                )
                self.regressions.append(
                    f"{study}{c.cell.strategy} {c.cell.key}: F1 {c.after:.4f}, was {c.before:.4f} "
                    f"({c.change:+.4f}, allowed -{self.compare_fail:.4f}{paired}){why}"
                )


STATE = pytest.StashKey[XnerSession]()
