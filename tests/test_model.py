"""Model and tokenizer loading: tiny, a local save_pretrained folder, and the hub's failure."""

import os
import subprocess
import sys

import pytest
import torch
import transformers

from xner.spec.labels import TAGS
from xner.training.model import load_tokenizer, new_model

# What transformers, tokenizers and datasets do: run on every tox line (tox.ini).
pytestmark = pytest.mark.release


def test_tiny_model_has_the_panx_labels(tokenizer):
    transformers.set_seed(0)
    model = new_model("tiny", len(tokenizer))
    assert model.config.id2label == dict(enumerate(TAGS))
    assert model.config.label2id == {t: i for i, t in enumerate(TAGS)}
    assert model.config.hidden_size <= 128 and model.config.num_hidden_layers <= 4


def test_a_local_save_pretrained_folder_loads_with_new_head(tokenizer, tmp_path):
    transformers.set_seed(0)
    saved = new_model("tiny", len(tokenizer))
    saved.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    loaded_tokenizer = load_tokenizer(str(tmp_path))
    words = ["Herr", "Loze", "war", "in", "Bad", "Naken"]
    assert (
        loaded_tokenizer(words, is_split_into_words=True)["input_ids"]
        == tokenizer(words, is_split_into_words=True)["input_ids"]
    )
    model = new_model(str(tmp_path), len(loaded_tokenizer))
    assert model.config.id2label == dict(enumerate(TAGS))
    encoder = "roberta.embeddings.word_embeddings.weight"
    assert (model.state_dict()[encoder] == saved.state_dict()[encoder]).all()


def test_pickled_weights_are_refused(tokenizer, tmp_path):
    transformers.set_seed(0)
    model = new_model("tiny", len(tokenizer))
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    # A folder with pickled weights only, as older save_pretrained calls wrote them.
    for weights in tmp_path.glob("*.safetensors"):
        weights.unlink()
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    with pytest.raises(FileNotFoundError, match=r"no \*\.safetensors weights"):
        new_model(str(tmp_path), len(tokenizer))


def test_a_missing_local_path_says_so():
    with pytest.raises(FileNotFoundError, match="save_pretrained"):
        load_tokenizer("./no-such-model")


@pytest.mark.parametrize(
    "call",
    [
        "from xner.training.model import load_tokenizer; load_tokenizer('xlm-roberta-base')",
        "from xner.data.panx import load_panx; load_panx('de')",
    ],
)
def test_unreachable_hub_gives_advice_not_a_traceback(call):
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    code = (
        "from xner.data.hub import HubUnreachableError\n"
        f"try:\n    {call}\n"
        "except HubUnreachableError as err:\n    print('MESSAGE', err)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    message = out.stdout.split("MESSAGE", 1)[1]
    assert "could not load" in message and "hub" in message
    # The advice: a local model folder (save_pretrained) or a local data folder.
    assert "save_pretrained" in message or "folder" in message
