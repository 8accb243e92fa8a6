"""Where transformers releases differ, decided once, by feature detection.

- `evaluation_strategy` became `eval_strategy` in 4.41 (the old name was removed in 4.51);
- `Trainer(tokenizer=)` became `processing_class=` in 4.46 (the old name was removed in 5.0);
- 5.x changed `report_to`'s default and turned `logging_dir` and `warmup_ratio` into errors,
  so neither is ever passed.
"""

from __future__ import annotations

import inspect
from functools import cache

import transformers


@cache
def _parameters(callable_) -> frozenset[str]:
    return frozenset(inspect.signature(callable_).parameters)


def training_arguments(**kwargs) -> transformers.TrainingArguments:
    """TrainingArguments from modern names; `eval_strategy` is renamed where still needed."""
    if "eval_strategy" in kwargs and "eval_strategy" not in _parameters(
        transformers.TrainingArguments.__init__
    ):
        kwargs["evaluation_strategy"] = kwargs.pop("eval_strategy")
    return transformers.TrainingArguments(**kwargs)


def trainer(tokenizer, **kwargs) -> transformers.Trainer:
    """A Trainer given the tokenizer under the name this release expects."""
    if "processing_class" in _parameters(transformers.Trainer.__init__):
        return transformers.Trainer(processing_class=tokenizer, **kwargs)
    return transformers.Trainer(tokenizer=tokenizer, **kwargs)
