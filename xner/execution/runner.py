"""Running training configurations: data prepared once per session, finished configurations
cached on disk under a key of everything that can move their figures."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import datasets
import torch

from xner.data.align import encode
from xner.data.corpus import corpus_fingerprint, load_study_corpus, study_tags
from xner.data.factors import segment, type_distribution
from xner.data.sampling import concat_languages, few_shot_subset
from xner.execution.cache import (
    CACHE_SCHEMA,
    code_fingerprint,
    read_cache,
    remember,
    request_key,
    source_fingerprint,
)
from xner.execution.entry_lock import EntryLock, lock_path
from xner.results.errors import error_analysis
from xner.results.intervals import (
    BOOTSTRAP_RESAMPLES,
    bootstrap,
    encode_counts,
    sentence_entities,
)
from xner.results.predictions import FOLDER as PREDICTIONS_FOLDER
from xner.results.predictions import conll_text, encode_file, split_fingerprint
from xner.results.records import Result, versions
from xner.spec.identity import ConfigId
from xner.spec.labels import TAGS
from xner.spec.runtime import Runtime
from xner.spec.schemes import entity_types_of_tags
from xner.spec.strategies import TrainConfig
from xner.spec.study import Study
from xner.training.device import device_name, resolve
from xner.training.model import load_tokenizer
from xner.training.train import StepClock, evaluate, finetune
from xner.writer import write_atomic, write_json

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TestFacts:
    """Of one language's test split: per sentence the words scored (after alignment), its
    fingerprint and its factors (xner.data.factors)."""

    words: list[list[str]]
    fingerprint: str
    factors: dict


@dataclass(frozen=True)
class FineTuned:
    """A fine-tuned model with what its results report about the training."""

    model: torch.nn.Module
    train_size: int
    seconds: float
    steps: int = 0
    seconds_per_step: float = 0.0


class Runner:
    """Trains and scores configurations of one study with one model and data source."""

    def __init__(
        self,
        study: Study,
        model: str | None = None,
        data: str | None = None,
        cache_dir: str | Path | None = None,
        force: bool = False,
        progress: bool = True,
        runtime: Runtime | None = None,
        max_steps: int | None = None,
    ):
        """`max_steps` cuts every training short after that many steps, for timing only:
        its figures mean nothing, so such a run caches nothing."""
        self.study = study
        self.max_steps = max_steps
        self.runtime = runtime or study.runtime
        self.model = model or study.model
        self.data = str(data or study.data)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.force = force
        self.progress = progress
        self._encoded: dict[str, datasets.DatasetDict] = {}
        self._raw_tests: dict[str, datasets.Dataset] = {}
        self._test_facts: dict[str, TestFacts] = {}
        self.trained_labels: list[str] = []  # configurations trained (not cached) here
        self._last: tuple[tuple[TrainConfig, int], FineTuned] | None = None

    @cached_property
    def resolved_runtime(self) -> dict:
        """The runtime as it applies in this process (dtype, threads, ...)."""
        return resolve(self.runtime)

    @cached_property
    def tokenizer(self):
        return load_tokenizer(self.model)

    def encoded(self, lang: str) -> datasets.DatasetDict:
        """The study's corpus for `lang`, encoded once per session."""
        if lang not in self._encoded:
            corpus = load_study_corpus(self.study, lang, self.data, self.study.fractions)
            self._encoded[lang] = encode(corpus[lang], self.tokenizer)
            self._raw_tests[lang] = corpus[lang]["test"]  # its words, for test_facts
        return self._encoded[lang]

    def cache_key(self, config: TrainConfig, seed: int) -> str:
        """Hash of every input that can move the configuration's figures."""
        inputs = {
            "config": asdict(config),
            "seed": seed,
            "study": self.study.name,
            "model": self.model,
            "model_files": source_fingerprint(self.model),
            "data": self.data,
            "data_files": source_fingerprint(self.data),
            "fractions": dict(self.study.fractions or {}),
            **self._corpus_key(),
            "recipe": asdict(self.study.recipe),
            "runtime": self.resolved_runtime,
            "code": code_fingerprint(),
            "versions": versions(),
            "device": device_name(),
        }
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()

    @cached_property
    def tags(self) -> tuple[str, ...]:
        """The study's IOB2 tags in head order (PAN-X's seven for PAN-X studies)."""
        return study_tags(self.study)

    def _corpus_key(self) -> dict:
        # Only for studies with a corpus or declared types: PAN-X studies keep their keys.
        if not self.study.corpus and not self.study.entity_types:
            return {}
        files = {lang: corpus_fingerprint(s) for lang, s in (self.study.corpus or {}).items()}
        return {"corpus": files, "tags": list(self.tags), "label_map": dict(self.study.label_map)}

    def _cache_path(self, config: TrainConfig, seed: int) -> Path | None:
        if self.cache_dir is None or self.max_steps:
            return None
        stem = ConfigId.of(self.study.name, config, seed).file_stem
        return self.cache_dir / f"{stem}-{self.cache_key(config, seed)[:16]}.json"

    def run(self, config: TrainConfig, seed: int = 0) -> list[Result]:
        """Results of `config` on each of its evaluation languages: cached, or trained now.

        With a cache, one process at a time trains a configuration (xner.execution.entry_lock):
        one that finds it being trained elsewhere waits for that entry and reads it."""
        cache = self._cache_path(config, seed)
        if cache is None:  # nothing to keep the predictions with (timing runs)
            return [self.score(config, seed, lang)[0] for lang in config.eval_langs]
        results = self._run_cached(cache, config, seed)
        if cache.exists():  # so that a rerun finds the entry without a worker (not: a full disk)
            key = request_key(self.study, config, seed, self.runtime, self.model, self.data)
            remember(self.cache_dir, key, cache)
        return results

    def _run_cached(self, cache: Path, config: TrainConfig, seed: int) -> list[Result]:
        while True:
            cached = self._cached(cache, config, seed)
            if cached is not None:
                return cached
            with EntryLock(lock_path(cache)) as lock:
                ready = lambda: not self.force and cache.exists()  # noqa: E731
                if lock.wait(ready, f"{self.study.name} {config.label} seed {seed}"):
                    # Written by another process between the look above and the lock?
                    cached = self._cached(cache, config, seed)
                    if cached is not None:
                        return cached
                    return self._train_and_cache(cache, config, seed)
            # Another process wrote the entry while this one waited: read it (above).

    def _cached(self, cache: Path, config: TrainConfig, seed: int) -> list[Result] | None:
        if self.force or not cache.exists():
            return None
        cached = read_cache(cache)
        if cached is not None:
            logger.info("%s seed %d: cached in %s", config.label, seed, cache)
        return cached

    def _train_and_cache(self, cache: Path, config: TrainConfig, seed: int) -> list[Result]:
        scored = [self.score(config, seed, lang) for lang in config.eval_langs]
        try:
            # The predictions files first: an entry is only ever read with its files.
            results = [
                dataclasses.replace(result, predictions=self._keep_predictions(cache, text))
                for result, text in scored
            ]
            entry = {"schema": CACHE_SCHEMA, "results": [r.to_dict() for r in results]}
            write_json(cache, entry, indent=1)  # atomic: readers see all of it or none
        except OSError as err:
            # A full disk must not throw a finished training away: its figures still go
            # to the run, which says what it could not write.
            logger.warning("%s; %s seed %d is not cached, its figures go on to the run",
                           err, config.label, seed)  # fmt: skip
            results = [dataclasses.replace(r, predictions=None) for r, _ in scored]
        return results

    @staticmethod
    def _keep_predictions(cache: Path, text: tuple[str, str]) -> str:
        """Write one cell's predictions beside its cache entry: `<entry>.<lang>.conll[.gz]`;
        its name in a results folder (`predictions/<that name>`, where the run copies it)."""
        lang, conll = text
        suffix, data = encode_file(conll)
        name = f"{cache.stem}.{lang}{suffix}"
        write_atomic(cache.parent / name, data)
        return f"{PREDICTIONS_FOLDER}/{name}"

    def training_data(self, config: TrainConfig) -> datasets.DatasetDict:
        """Encoded train and validation splits of `config`."""
        if len(config.train_langs) == 1:
            data = self.encoded(config.train_langs[0])
        else:
            data = concat_languages(
                {lang: self.encoded(lang) for lang in config.train_langs}, config.train_langs
            )
        if config.size is not None:
            data = datasets.DatasetDict(
                train=few_shot_subset(data["train"], config.size), validation=data["validation"]
            )
        return data

    def fine_tune(self, config: TrainConfig, seed: int = 0) -> FineTuned:
        """The fine-tuned model of `config`; the last one is kept, as its evaluations follow."""
        key = (config, seed)
        if self._last is None or self._last[0] != key:
            self._last = None  # free the previous model before training the next
            data = self.training_data(config)
            start = time.perf_counter()
            clock = StepClock()
            model = finetune(
                self.model,
                self.tokenizer,
                data["train"],
                data["validation"],
                self.study.recipe,
                seed=seed,
                progress=self.progress,
                description=f"{self.study.name} {config.label} seed {seed}",
                runtime=self.runtime,
                callbacks=[clock],
                max_steps=self.max_steps,
                tags=self.tags,
            )
            seconds = time.perf_counter() - start
            self.trained_labels.append(config.label)
            self._last = (
                key,
                FineTuned(
                    model, data["train"].num_rows, seconds, clock.steps, clock.seconds_per_step
                ),
            )
        return self._last[1]

    def test_facts(self, lang: str) -> TestFacts:
        """What the analysis needs of `lang`'s test split, measured once per session."""
        if lang not in self._test_facts:
            self.encoded(lang)
            test = self._raw_tests.pop(lang)
            tokens = test["tokens"]
            gold = [[self.tags[i] for i in row] for row in test["ner_tags"]]
            types = list(entity_types_of_tags(self.tags))
            seg = segment(self.tokenizer, tokens)
            factors = seg.as_dict() | {
                "entity_types": type_distribution(
                    sentence_entities(gold, self.study.recipe.metric_mode), types
                )
            }
            self._test_facts[lang] = TestFacts(
                [[row[w] for w in words] for row, words in zip(tokens, seg.labelled, strict=True)],
                split_fingerprint(tokens, gold),
                factors,
            )
        return self._test_facts[lang]

    def score(self, config: TrainConfig, seed: int, lang: str) -> tuple[Result, tuple[str, str]]:
        """The Result of `config` (trained if need be) on `lang`'s test split, and its
        predictions as (lang, CoNLL text) for `run` to keep."""
        trained = self.fine_tune(config, seed)
        test = self.encoded(lang)["test"]
        facts = self.test_facts(lang)
        start = time.perf_counter()
        scores = evaluate(trained.model, self.tokenizer, test, self.study.recipe, self.runtime)
        true, pred = scores.tags
        if [len(row) for row in true] != [len(row) for row in facts.words]:
            raise ValueError(
                f"{lang} test: the scored words do not match the aligned words (xner.data.align "
                "and xner.data.factors disagree)"
            )
        types = list(entity_types_of_tags(self.tags))
        errors = error_analysis(true, pred, types, self.study.recipe.metric_mode)
        conll = conll_text(facts.words, true, pred)
        result = Result(
            strategy=config.strategy,
            train_langs=list(config.train_langs),
            train_size=trained.train_size,
            eval_lang=lang,
            seed=seed,
            f1=scores.f1,
            precision=scores.precision,
            recall=scores.recall,
            per_type=scores.per_type,
            n_test=test.num_rows,
            model=self.model,
            data_source=self.data,
            train_seconds=round(trained.seconds, 3),
            train_steps=trained.steps,
            seconds_per_step=round(trained.seconds_per_step, 5),
            eval_seconds=round(time.perf_counter() - start, 3),
            versions=versions(),
            device=device_name(),
            config=config.label,
            study=self.study.name,
            size=config.size,
            reference=getattr(self.study.strategies.get(config.strategy), "reference", None),
            interval=_interval(scores.sentence_counts, self.tags),
            sentence_counts=encode_counts(scores.sentence_counts),
            strategy_version=config.version,
            runtime=self.resolved_runtime,
            entity_types=None if self.tags == TAGS else list(entity_types_of_tags(self.tags)),
            test_fingerprint=facts.fingerprint,
            errors=errors,
            factors=facts.factors,
        )
        return result, (lang, conll)


def _interval(counts, tags) -> dict | None:
    """The default bootstrap interval (1,000 resamples, seed 0); other settings are derived
    from the stored counts when a run's files are written."""
    intervals = bootstrap(counts, BOOTSTRAP_RESAMPLES, entity_types=entity_types_of_tags(tags))
    return intervals.to_dict() if intervals is not None else None
