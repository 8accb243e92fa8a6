"""The recipe, the fine-tuning loop's determinism, and the compatibility layer."""

import dataclasses
import warnings

import datasets
import pytest
import torch
import transformers

from xner.data.align import encode
from xner.data.panx import synthetic_panx
from xner.spec.recipe import Recipe
from xner.training.train import evaluate, finetune

# What transformers, tokenizers and datasets do: run on every tox line (tox.ini).
pytestmark = pytest.mark.release


def test_recipe_defaults_are_the_reports():
    recipe = Recipe()
    assert (recipe.learning_rate, recipe.epochs, recipe.batch_size, recipe.weight_decay) == (
        5e-5,
        3,
        16,
        0.05,
    )
    assert recipe.metric_mode == "default"
    with pytest.raises(dataclasses.FrozenInstanceError):
        recipe.epochs = 4


@pytest.fixture(scope="module")
def small(tokenizer):
    data = synthetic_panx("de", {"train": 96, "validation": 32, "test": 32}, seed=3)
    return encode(data, tokenizer)


def train_once(tokenizer, small, seed, epochs=2):
    recipe = Recipe(learning_rate=3e-3, epochs=epochs)
    model = finetune(
        "tiny", tokenizer, small["train"], small["validation"], recipe, seed=seed, progress=False
    )
    return model, evaluate(model, tokenizer, small["test"], recipe)


def test_same_seed_gives_bit_identical_weights_and_f1(tokenizer, small):
    model_a, scores_a = train_once(tokenizer, small, seed=1)
    model_b, scores_b = train_once(tokenizer, small, seed=1)
    assert scores_a == scores_b
    for (name, a), b in zip(
        model_a.state_dict().items(), model_b.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


def test_another_seed_gives_another_model(tokenizer, small):
    model_a, _ = train_once(tokenizer, small, seed=1, epochs=1)
    model_b, _ = train_once(tokenizer, small, seed=2, epochs=1)
    weights = "classifier.weight"
    assert not torch.equal(model_a.state_dict()[weights], model_b.state_dict()[weights])


def test_the_best_epoch_is_restored(tokenizer, small):
    """The first epoch is made the best one (after it, every prediction is pushed to "O", so
    later epochs score 0 whatever the release's initialisation): the returned model must
    score what the first epoch scored, not what the last did."""
    recipe = Recipe(learning_rate=3e-3, epochs=3, batch_size=8)
    history = []

    class Keep(transformers.TrainerCallback):
        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            history.append(metrics["eval_f1"])

    class SpoilAfterTheFirstEpoch(transformers.TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.epoch > 1:
                with torch.no_grad():
                    model.classifier.bias[0] = 1e4  # label 0 is "O"

    # 128 wide: in 12 steps the 32-wide smoke model has not yet learned to tag anything.
    model = finetune("tiny-128", tokenizer, small["train"], small["validation"], recipe,
                     progress=False, callbacks=[Keep(), SpoilAfterTheFirstEpoch()])  # fmt: skip
    assert history[0] > 0 and history[1:] == [0.0, 0.0], history
    assert evaluate(model, tokenizer, small["validation"], recipe).f1 == pytest.approx(
        history[0], abs=1e-9
    )


def test_no_deprecated_argument_warnings_from_xner(tokenizer, small):
    """Fine-tuning and scoring pass no argument this transformers release deprecates."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        warnings.simplefilter("error", DeprecationWarning)
        train_once(tokenizer, small, seed=0, epochs=1)


def test_checkpoints_are_removed(tokenizer, small, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    train_once(tokenizer, small, seed=0, epochs=1)
    assert list(tmp_path.iterdir()) == []


def test_labels_are_padded_with_minus_100(tokenizer, small):
    from xner.spec.runtime import Runtime
    from xner.training.train import _collator

    batch = _collator(tokenizer, Runtime())(
        [small["train"][0], small["train"][1], small["train"][2]]
    )
    lengths = [len(small["train"][i]["labels"]) for i in range(3)]
    shortest = lengths.index(min(lengths))
    assert (batch["labels"][shortest, min(lengths) :] == -100).all()


def test_datasets_stay_untouched_by_training(tokenizer, small):
    before = small["train"].to_dict()
    train_once(tokenizer, small, seed=0, epochs=1)
    assert small["train"].to_dict() == before
    assert isinstance(small, datasets.DatasetDict)


def test_eval_sorted_by_length_in_big_batches_scores_the_same(tokenizer, small):
    """The fast runtime's evaluation (length-sorted, batch 256) against the Trainer's (dataset
    order, batch 64): entity F1 is a sum over sentences, so the order cannot move it."""
    from xner.spec.runtime import PLAIN, Runtime

    model = finetune("tiny", tokenizer, small["train"], small["validation"],
                     Recipe(learning_rate=3e-3, epochs=1), progress=False)  # fmt: skip
    fast = evaluate(model, tokenizer, small["validation"], runtime=Runtime())
    plain = evaluate(model, tokenizer, small["validation"], runtime=PLAIN)
    assert fast == plain
    # The per-sentence counts come back in the split's order, whatever order scored them.
    assert fast.sentence_counts.shape == (small["validation"].num_rows, 3, 3)
    assert (fast.sentence_counts == plain.sentence_counts).all()
    tp, fp, fn = fast.sentence_counts.sum(axis=(0, 1))
    assert fast.f1 == pytest.approx(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    assert tp + fn == fast.support


def test_max_steps_stops_early_and_the_clock_counts_steps(tokenizer, small):
    from xner.training.train import StepClock

    clock = StepClock()
    finetune("tiny", tokenizer, small["train"], small["validation"],
             Recipe(learning_rate=3e-3, epochs=3, batch_size=4), progress=False,
             callbacks=[clock], max_steps=3)  # fmt: skip
    assert clock.steps == 3 and clock.seconds_per_step > 0
