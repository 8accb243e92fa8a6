"""Tokenizer and token-classification model with the PAN-X labels: from the hub, from a local
folder written by `save_pretrained`, the tiny CPU model (`"tiny"`), or XLM-R base's architecture
with random weights (`"xlmr-base-random"`, for measuring cost at real size offline)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import transformers

from xner.data.hub import hub_call
from xner.spec.labels import TAGS, label_maps
from xner.spec.recipe import DEFAULT_MODEL, TINY_WIDTHS, XLMR_BASE_RANDOM
from xner.training.realsize import xlmr_base_random_config, xlmr_base_random_tokenizer

_LOCAL_HINT = (
    "save a copy once with save_pretrained (tokenizer and model, safetensors weights) on a "
    "machine that can reach the hub, and pass its folder (--model DIR / --xner-model DIR)"
)


def _is_local(name_or_path: str) -> bool:
    path = Path(name_or_path)
    if path.is_dir():
        return True
    if path.exists() or name_or_path.startswith((".", "/", "~")):
        raise FileNotFoundError(
            f"model path {name_or_path!r} is not a folder written by save_pretrained"
        )
    return False


def load_tokenizer(name_or_path: str = DEFAULT_MODEL):
    """The fast tokenizer of a hub model, a local folder, or the tiny model."""
    if name_or_path in TINY_WIDTHS:
        from xner.training.tiny import tiny_tokenizer

        return tiny_tokenizer()
    if name_or_path == XLMR_BASE_RANDOM:
        return xlmr_base_random_tokenizer()
    if _is_local(name_or_path):
        tokenizer = transformers.AutoTokenizer.from_pretrained(name_or_path, local_files_only=True)
    else:
        tokenizer = hub_call(
            lambda: transformers.AutoTokenizer.from_pretrained(name_or_path),
            what=f"the tokenizer of {name_or_path!r}",
            local_hint=_LOCAL_HINT,
        )
    if not tokenizer.is_fast:
        raise TypeError(f"{name_or_path!r} has no fast tokenizer; label alignment needs word_ids()")
    return tokenizer


def new_model(name_or_path: str, vocab_size: int, tags: Sequence[str] = TAGS) -> torch.nn.Module:
    """A fresh token classifier: pretrained encoder plus a new head, or the tiny random model.
    The head has one output per tag of `tags` (IOB2, in this order; PAN-X's seven by default).

    Call `transformers.set_seed` first: the head (and the whole tiny model) is initialised
    from torch's random state.
    """
    if name_or_path in TINY_WIDTHS:
        from xner.training.tiny import tiny_config

        return transformers.XLMRobertaForTokenClassification(
            tiny_config(vocab_size, TINY_WIDTHS[name_or_path], **label_maps(tags))
        )
    if name_or_path == XLMR_BASE_RANDOM:
        # vocab_size is ignored: XLM-R's 250,002-row embedding is what makes the cost real.
        return transformers.XLMRobertaForTokenClassification(
            xlmr_base_random_config(**label_maps(tags))
        )
    kwargs = dict(
        num_labels=len(tags),
        use_safetensors=True,  # never unpickle weights
        trust_remote_code=False,
        **label_maps(tags),
    )
    load = transformers.AutoModelForTokenClassification.from_pretrained
    if _is_local(name_or_path):
        # Checked here too: transformers 4.40 falls back to pytorch_model.bin silently.
        if not any(Path(name_or_path).glob("*.safetensors")):
            raise FileNotFoundError(
                f"{name_or_path}: no *.safetensors weights; xner does not unpickle "
                "pytorch_model.bin. Re-save the model with save_pretrained(safe_serialization=True)"
            )
        return load(name_or_path, local_files_only=True, **kwargs)
    return hub_call(
        lambda: load(name_or_path, **kwargs),
        what=f"the model {name_or_path!r}",
        local_hint=_LOCAL_HINT,
    )
