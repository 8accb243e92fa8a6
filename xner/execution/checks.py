"""The checks a run makes before its first training, apart from the training code so that
they run without torch: `xner check`, `xner run` and the pytest plugin make the same ones.
A hub model's tokenizer is the one check that loads transformers (and torch with it)."""

from __future__ import annotations

from xner.data.corpus import load_study_corpus
from xner.errors import XnerError
from xner.spec.recipe import BUILT_IN_MODELS
from xner.spec.study import Study, StudyError

# What a failed check raises: each is a message for the user, not a bug.
PREFLIGHT_ERRORS = (XnerError, OSError)


def preflight(study: Study, model: str | None = None, data: str | None = None) -> None:
    """Resolve the model's tokenizer and every language's data now, so that a wrong name, path,
    file or few-shot size stops a run before its first training rather than after some
    finished. What xner builds itself (the tiny and random models, synthetic data, whose
    sizes the study file's check knows) cannot be wrong."""
    model, data = model or study.model, str(data or study.data)
    if model not in BUILT_IN_MODELS:
        from xner.training.model import load_tokenizer

        load_tokenizer(model)
    if data == "synthetic":
        return
    train_rows = {}
    for lang in study.langs():
        # Every split of every language, read and checked now (a corpus's with its tags).
        dd = load_study_corpus(study, lang, data, None)[lang]
        rows = dd["train"].num_rows if "train" in dd else 0
        train_rows[lang] = int(rows * (study.fractions or {}).get(lang, 1.0))
    for name, strategy in study.strategies.items():
        for train in strategy.train_sets:
            available = sum(train_rows[lang] for lang in train)
            for size in strategy.sizes:
                if size is not None and size > available:
                    raise StudyError(
                        f"{study.source}: strategies.{name}: few-shot size {size} is larger "
                        f"than the {available} training sentences of {'+'.join(train)} in "
                        f"{data!r}"
                    )
