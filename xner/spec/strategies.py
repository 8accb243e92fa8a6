"""Transfer strategies: which languages to train on, at which sizes, and which languages to
evaluate on. A strategy expands into training configurations; each is trained once, however
many languages it is evaluated on. Plain data: no torch, no datasets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    """One fine-tuning run: train languages, optional sentence count, languages to score."""

    strategy: str
    train_langs: tuple[str, ...]
    eval_langs: tuple[str, ...]
    size: int | None = None  # the first `size` rows of the shuffled train split; None = all
    version: int = 1  # the strategy's version: bumped when a change moves its figures
    train_name: str = ""  # how the study file named the training set ("all"), if not by codes

    @property
    def label(self) -> str:
        """Short readable name: `de`, `fr:1000`, `de+fr`, `all`."""
        langs = self.train_name or "+".join(self.train_langs)
        return langs if self.size is None else f"{langs}:{self.size}"


@dataclass(frozen=True)
class Strategy:
    """A named family of training configurations evaluated on the same languages.

    With sizes it is a learning curve (few-shot): each training set is trained on the first n
    sentences for every n. `reference` names the strategy whose results the curve is drawn
    against (few-shot fr against zero-shot de->fr).
    """

    name: str
    train_sets: tuple[tuple[str, ...], ...]
    eval_langs: tuple[str, ...]
    sizes: tuple[int | None, ...] = (None,)
    version: int = 1
    description: str = ""
    reference: str | None = None
    train_names: tuple[str, ...] = ()  # per training set: "all" where the file said so, else ""

    @property
    def is_curve(self) -> bool:
        return any(size is not None for size in self.sizes)

    def configs(self) -> list[TrainConfig]:
        """Every (train set, size) combination as a TrainConfig, in order."""
        names = self.train_names or ("",) * len(self.train_sets)
        return [
            TrainConfig(self.name, train, self.eval_langs, size, self.version, train_name)
            for train, train_name in zip(self.train_sets, names, strict=True)
            for size in self.sizes
        ]
