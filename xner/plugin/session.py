"""The plugin's state: one XnerSession per pytest process, kept in `config.stash[STATE]`, and
the records the controller gathers from every test report."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pytest

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
    """Everything the plugin keeps for one pytest session. The studies, the plan and the
    engine are made on first use, when xner's own cases are collected: a session of another
    project loads none of them."""

    config: pytest.Config
    options: object  # xner.execution.options.RunOptions, from the --xner-* options
    compare_path: Path | None = None
    compare_fail: float = 0.01
    require_expected: bool = False
    compare_plain: bool = False  # --xner-compare by the plain threshold, without the paired test
    chosen: tuple[str, ...] | None = None  # --xner-study (None: every built-in study)
    baseline: list | None = None  # the --xner-compare run, read once before any case
    records: list[Record] = field(default_factory=list)
    outcomes: dict = field(default_factory=dict)  # xner.spec.identity.ConfigId -> its Results
    trained: dict = field(default_factory=dict)  # ConfigId -> trained (True) or cached, as
    # the workers reported it
    regressions: list[str] = field(default_factory=list)
    expected_files: dict = field(default_factory=dict)  # path -> xner.spec.expected.Expected
    written: list[Path] = field(default_factory=list)
    write_error: str | None = None  # the first result file that could not be written
    lock: object = None  # the xner.reporting.output.FolderLock on results_dir, on the controller
    timed: set = field(default_factory=set)  # ConfigIds whose training a case's row reports
    kept: Path | None = None  # the history store's subfolder this run was kept in (--xner-keep)
    plan_record: dict | None = None  # a shard's run.plan, from the reports of its cases
    _studies: tuple[dict, dict] | None = None
    _engine: object = None
    _plan: object = None
    _case_table: dict | None = None

    @property
    def results_dir(self) -> Path:
        return Path(self.options.results)

    @property
    def seeds(self) -> list[int]:
        return list(self.options.seeds)

    @property
    def model(self) -> str | None:
        return self.options.model

    @property
    def data(self) -> str | None:
        return self.options.data

    @property
    def bootstrap(self) -> int:
        return self.options.bootstrap

    @property
    def shard(self):
        return self.options.shard

    @property
    def studies(self) -> dict:
        """name -> xner.spec.study.Study whose cases the benchmarks run (loaded once)."""
        return self._load_studies()[0]

    @property
    def unsuited(self) -> dict:
        """built-in study -> why --xner-data does not suit it (an error only if it runs)."""
        return self._load_studies()[1]

    def _load_studies(self) -> tuple[dict, dict]:
        if self._studies is None:
            self._studies = _studies(self.chosen, self.data)
        return self._studies

    @property
    def engine(self):
        """The xner.execution.engine.Engine: training, cache and files, as `xner run`'s."""
        if self._engine is None:
            from xner.execution.engine import Engine

            self._engine = Engine.of(self.options, slot=self.worker_slot())
        return self._engine

    def plan(self, among):
        """The run's xner.execution.plan.Plan (configurations, costs, order, shard) of the
        configurations named in `among` (those collected), made once."""
        if self._plan is None:
            from xner.execution.plan import make_plan

            asked = self.options.strategy or ()
            known = {name for study in self.studies.values() for name in study.strategies}
            unknown = [name for name in asked if name not in known]
            if unknown:
                raise pytest.UsageError(
                    f"--xner-strategy: no strategy {', '.join(map(repr, unknown))} in the "
                    f"selected studies; they have: {', '.join(sorted(known))}"
                )
            self._plan = make_plan(
                self.studies.values(), self.seeds, self.shard, self.options.strategy, among
            )
        return self._plan

    def case_of(self, param_id: str):
        """The xner.spec.identity.CaseId whose pytest id is `param_id`, or None (another
        test's): by identity, from every case the selected studies have."""
        if self._case_table is None:
            from xner.execution.plan import case_ids

            self._case_table = case_ids(self.studies.values(), self.seeds)
        return self._case_table.get(param_id)

    def train_config(self, case):
        """The xner.spec.strategies.TrainConfig that `case` (a CaseId) is scored by."""
        strategy = self.studies[case.study].strategies[case.strategy]
        return next(c for c in strategy.configs() if c.label == case.config)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()

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
        from xner.spec.recipe import BOOTSTRAP_RESAMPLES

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
        from xner.execution.engine import run_record

        return run_record("pytest", self.options, self.studies.values())

    def shard_plan(self, costs: dict[str, float], studies: set[str]) -> dict:
        """What this shard records of the plan it was cut from (xner.execution.shard_plan):
        the collected cases' configurations (`costs`: name -> cost) of `studies`, before
        the shard took its share."""
        from xner.execution.shard_plan import shard_plan

        studies = [self.studies[name] for name in sorted(studies)]
        runtime = {"dtype": self.options.dtype, "compile": self.options.compile}
        return shard_plan(studies, self.shard, self.seeds, self.model, self.data, runtime,
                          costs)  # fmt: skip

    def write_results(self, plots: bool = False) -> None:
        """Every file of the run, through xner's one writer; plots only at the end."""
        from xner.results.records import Result

        session = [Result.from_dict(r.result) for r in self.records]
        facts = self.run_facts | ({"plan": self.plan_record} if self.plan_record else {})
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


def _studies(chosen, data) -> tuple[dict, dict]:
    """The studies whose cases the benchmark modules run, checked: a bad study file is a
    usage error naming the file and the key. Also returns, per built-in study that
    --xner-data does not suit, why (an error only if its cases run)."""
    from xner.spec.study import StudyError, built_in_studies, load_study

    studies, unsuited = [], {}
    for name in chosen or built_in_studies():
        try:
            studies.append(load_study(name, data))
        except StudyError as err:
            if chosen or data is None:
                raise pytest.UsageError(f"--xner-study: {err}") from None
            # A built-in study that --xner-data does not suit (the report's few-shot sizes
            # on synthetic data) only matters if its cases run: the preflight says so then.
            studies.append(load_study(name))
            unsuited[name] = str(err)
    by_name = {}
    for study in studies:
        if study.name in by_name:
            raise pytest.UsageError(
                f"--xner-study: two studies are named {study.name!r} ({study.source}, "
                f"{by_name[study.name].source}); rename one file"
            )
        by_name[study.name] = study
    return by_name, unsuited
