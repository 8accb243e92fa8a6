"""xner: cross-lingual NER transfer benchmarks (XLM-RoBERTa on PAN-X) as a pytest suite.

The public names below load lazily: importing xner (as pytest does for the plugin) must not
import torch and transformers.
"""

from __future__ import annotations

import importlib

_PUBLIC = {
    "align_labels": "xner.align",
    "encode": "xner.align",
    "encode_counting_loss": "xner.align",
    "FEATURES": "xner.data",
    "TAGS": "xner.labels",
    "concat_languages": "xner.data",
    "few_shot_subset": "xner.data",
    "load_corpus": "xner.data",
    "load_panx": "xner.data",
    "write_xtreme": "xner.data",
    "EntityScores": "xner.metrics",
    "entity_f1": "xner.metrics",
    "logits_to_tags": "xner.metrics",
    "Result": "xner.results",
    "load_results": "xner.results",
    "save_results": "xner.results",
    "Strategy": "xner.strategies",
    "TrainConfig": "xner.strategies",
    "Recipe": "xner.recipe",
    "evaluate": "xner.train",
    "finetune": "xner.train",
    "Study": "xner.study",
    "load_study": "xner.study",
    "Runner": "xner.runner",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'xner' has no attribute {name!r}")
