"""The report's sampling, the one place it happens for every corpus source: each language's
splits cut to its fraction, few-shot subsets that nest, and multilingual concatenation.

REPORT.md: a split keeps the first `int(fraction * num_rows)` rows after
`Dataset.shuffle(seed=0)`; a few-shot subset of size n is the first n training rows after
`shuffle(seed=42)`, so that subsets of growing n nest in one another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import datasets

CORPUS_SEED = 0
SUBSET_SEED = 42


def sample_language(
    dd: datasets.DatasetDict,
    lang: str,
    fractions: Mapping[str, float] | None,
    seed: int = CORPUS_SEED,
) -> datasets.DatasetDict:
    """`lang`'s splits cut to its fraction; whole, in file order, where `fractions` is None
    or has no entry for `lang` (a language outside the base study's fractions)."""
    if fractions is None or lang not in fractions:
        return dd
    return sample_fraction(dd, fractions[lang], seed)


def sample_fraction(dd: datasets.DatasetDict, fraction: float, seed: int) -> datasets.DatasetDict:
    """Shuffle each split with `seed` and keep its first `int(fraction * num_rows)` rows."""
    if not 0 < fraction <= 1:
        raise ValueError(f"corpus fraction must be in (0, 1], got {fraction}")
    return datasets.DatasetDict(
        {
            split: ds.shuffle(seed=seed).select(range(int(fraction * ds.num_rows)))
            for split, ds in dd.items()
        }
    )


def few_shot_subset(train: datasets.Dataset, n: int, seed: int = SUBSET_SEED) -> datasets.Dataset:
    """The first `n` rows after `shuffle(seed)`: subsets of growing `n` nest in one another."""
    if not 0 < n <= train.num_rows:
        raise ValueError(f"few-shot size {n} must be between 1 and the {train.num_rows} rows")
    return train.shuffle(seed=seed).select(range(n))


def concat_languages(
    corpus: Mapping[str, datasets.DatasetDict], langs: Iterable[str], seed: int = SUBSET_SEED
) -> datasets.DatasetDict:
    """Train and validation splits of `langs` concatenated and shuffled with `seed`."""
    langs = list(langs)
    missing = [lang for lang in langs if lang not in corpus]
    if missing:
        raise KeyError(f"languages {missing} not in the corpus ({list(corpus)})")
    return datasets.DatasetDict(
        {
            split: datasets.concatenate_datasets([corpus[lang][split] for lang in langs]).shuffle(
                seed=seed
            )
            for split in ("train", "validation")
        }
    )
