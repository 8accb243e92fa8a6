"""xner: cross-lingual NER transfer benchmarks (XLM-RoBERTa on PAN-X) as a pytest suite.

The public names below load lazily: importing xner (as pytest does for the plugin) must not
import torch and transformers.
"""

from __future__ import annotations

import importlib

_PUBLIC = {
    "align_labels": "xner.data.align",
    "encode": "xner.data.align",
    "encode_counting_loss": "xner.data.align",
    "FEATURES": "xner.data.panx",
    "TAGS": "xner.spec.labels",
    "concat_languages": "xner.data.sampling",
    "few_shot_subset": "xner.data.sampling",
    "load_corpus": "xner.data.panx",
    "load_panx": "xner.data.panx",
    "write_xtreme": "xner.data.panx",
    "EntityScores": "xner.results.metrics",
    "entity_f1": "xner.results.metrics",
    "logits_to_tags": "xner.results.metrics",
    "Result": "xner.results.records",
    "load_results": "xner.results.records",
    "save_results": "xner.results.records",
    "Strategy": "xner.spec.strategies",
    "TrainConfig": "xner.spec.strategies",
    "Recipe": "xner.spec.recipe",
    "evaluate": "xner.training.train",
    "finetune": "xner.training.train",
    "Study": "xner.spec.study",
    "load_study": "xner.spec.study",
    "Runner": "xner.execution.runner",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'xner' has no attribute {name!r}")
