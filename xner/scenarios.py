"""The study's transfer strategies as data: which languages to train on, at which sizes, and
which languages to evaluate on. A strategy expands into training configurations; each is
trained once, however many languages it is evaluated on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from xner.data import check_lang

STUDY_LANGS = ("de", "fr", "it", "en")
REPORT_FEW_SHOT_SIZES = (250, 500, 1000, 2000, 4000)


@dataclass(frozen=True)
class TrainConfig:
    """One fine-tuning run: train languages, optional sentence count, languages to score."""

    strategy: str
    train_langs: tuple[str, ...]
    eval_langs: tuple[str, ...]
    size: int | None = None  # the first `size` rows of the shuffled train split; None = all
    version: int = 1  # the strategy's version: bumped when a change moves its figures

    @property
    def label(self) -> str:
        """Short readable name: `de`, `fr:1000`, `de+fr`, `all`."""
        langs = "all" if set(self.train_langs) == set(STUDY_LANGS) else "+".join(self.train_langs)
        return langs if self.size is None else f"{langs}:{self.size}"


@dataclass(frozen=True)
class Strategy:
    """A named family of training configurations evaluated on the same languages."""

    name: str
    train_sets: tuple[tuple[str, ...], ...]
    eval_langs: tuple[str, ...]
    sizes: tuple[int | None, ...] = (None,)
    version: int = 1
    description: str = ""

    def configs(self) -> list[TrainConfig]:
        """Every (train set, size) combination as a TrainConfig, in order."""
        return [
            TrainConfig(self.name, train, self.eval_langs, size, self.version)
            for train in self.train_sets
            for size in self.sizes
        ]

    def with_sizes(self, sizes: Sequence[int | None]) -> Strategy:
        """The same strategy trained at other sizes (profiles scale few-shot sizes)."""
        return replace(self, sizes=tuple(sizes))


# Version 2: trainings run with xner's runtime (fused AdamW, length-sorted evaluation) and, on a
# CPU, one thread with pinned numerics per training, which moved the smoke figures.
VERSION = 2

STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy(
            "zero-shot",
            (("de",),),
            STUDY_LANGS,
            version=VERSION,
            description="train de, test all four",
        ),
        Strategy(
            "few-shot",
            (("fr",),),
            ("fr",),
            sizes=REPORT_FEW_SHOT_SIZES,
            version=VERSION,
            description="train on n French sentences, compared with zero-shot fr",
        ),
        Strategy(
            "multilingual",
            (("de", "fr"),),
            STUDY_LANGS,
            version=VERSION,
            description="train de + fr",
        ),
        Strategy(
            "full", (STUDY_LANGS,), STUDY_LANGS, version=VERSION, description="train on all four"
        ),
    )
}


def custom_strategy(
    train_langs: Iterable[str], eval_langs: Iterable[str], name: str = "custom"
) -> Strategy:
    """'Train on these PAN-X languages, evaluate on those' as a strategy of its own."""
    train = tuple(check_lang(lang) for lang in train_langs)
    evals = tuple(check_lang(lang) for lang in eval_langs)
    if not train or not evals:
        raise ValueError("a strategy needs at least one training and one evaluation language")
    return Strategy(name, (train,), evals)


def get_strategy(name: str) -> Strategy:
    """One of STRATEGIES by name, with a clear error for an unknown one."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
