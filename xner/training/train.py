"""Fine-tuning with the report's recipe, and scoring a fine-tuned model on a test split."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Sequence

import datasets
import numpy as np
import torch
import transformers
from tqdm.auto import tqdm

from xner.results.intervals import sentence_counts
from xner.results.metrics import EntityScores, entity_f1, logits_to_tags
from xner.spec.labels import IGNORE, TAGS
from xner.spec.recipe import Recipe
from xner.spec.runtime import Runtime
from xner.spec.schemes import entity_types_of_tags
from xner.training import compat
from xner.training.device import resolve
from xner.training.model import new_model


def _collator(tokenizer, runtime: Runtime):
    # Pads labels with -100 so padding never counts in the loss or the metric. On a GPU,
    # lengths are padded to a multiple of 8 (tensor cores), or of 64 under torch.compile so
    # that it sees a few shapes rather than one per batch; padding is masked either way.
    multiple = None
    if torch.cuda.is_available():
        multiple = 64 if runtime.compile else 8
    return transformers.DataCollatorForTokenClassification(
        tokenizer, label_pad_token_id=IGNORE, pad_to_multiple_of=multiple
    )


def _runtime_arguments(runtime: Runtime, eval_only: bool = False) -> dict:
    """TrainingArguments of the runtime; unset ones keep the Trainer's defaults."""
    resolved = resolve(runtime)
    cuda = torch.cuda.is_available()
    args = {
        "per_device_eval_batch_size": runtime.eval_batch_size,
        "dataloader_pin_memory": cuda,
        "dataloader_num_workers": resolved["loader_workers"],
        "bf16": resolved["dtype"] == "bf16",
        "fp16": resolved["dtype"] == "fp16",
    }
    if eval_only:
        return args
    if resolved["tf32"]:
        args["tf32"] = True  # TrainingArguments refuses tf32 on a CPU, so only when it applies
    if runtime.optim is not None:
        args["optim"] = runtime.optim
    if runtime.fast:
        # The only per-step host sync the Trainer adds: an isnan test of the logged loss.
        args["logging_nan_inf_filter"] = False
    if runtime.compile:
        args["torch_compile"] = True
    return args


def finetune(
    model_name: str,
    tokenizer,
    train: datasets.Dataset,
    validation: datasets.Dataset,
    recipe: Recipe = Recipe(),
    seed: int = 0,
    progress: bool = True,
    description: str = "fine-tuning",
    runtime: Runtime | None = None,
    callbacks: Sequence[transformers.TrainerCallback] = (),
    max_steps: int | None = None,
    tags: Sequence[str] = TAGS,
) -> torch.nn.Module:
    """Fine-tune a fresh `model_name` on encoded `train` and return the best epoch's model.

    Validation entity F1 is measured every epoch and the best epoch's weights are restored.
    Checkpoints go to a temporary folder removed afterwards; nothing is reported or pushed.
    `runtime` says how it executes (dtype, optimizer kernel, ...), never what it trains.
    `max_steps` stops after that many optimizer steps, before any validation: for timing
    only, the model is then the one of that step. `tags` are the head's IOB2 tags, in the
    order of the encoded labels' ids (PAN-X's seven by default).
    """
    runtime = runtime or Runtime()
    transformers.set_seed(seed)
    model = new_model(model_name, len(tokenizer), tags)
    id2label = model.config.id2label

    def compute_metrics(prediction) -> dict[str, float]:
        true, pred = logits_to_tags(prediction.predictions, prediction.label_ids, id2label)
        return {"f1": entity_f1(true, pred, recipe.metric_mode).f1}

    with tempfile.TemporaryDirectory(prefix="xner-") as checkpoints:
        args = compat.training_arguments(
            output_dir=checkpoints,
            learning_rate=recipe.learning_rate,
            num_train_epochs=recipe.epochs,
            per_device_train_batch_size=recipe.batch_size,
            weight_decay=recipe.weight_decay,
            eval_strategy="epoch",
            save_strategy="epoch",
            load_best_model_at_end=True,
            metric_for_best_model="f1",
            greater_is_better=True,
            save_total_limit=1,
            save_only_model=True,
            logging_strategy="epoch",
            report_to="none",
            seed=seed,
            data_seed=seed,
            disable_tqdm=True,  # replaced by one bar per training, below
            log_level="warning",
            **_runtime_arguments(runtime),
            **({"max_steps": max_steps} if max_steps else {}),
        )
        trainer = compat.trainer(
            tokenizer,
            model=model,
            args=args,
            train_dataset=train,
            eval_dataset=validation,
            data_collator=_collator(tokenizer, runtime),
            compute_metrics=compute_metrics,
            callbacks=[ProgressBar(description, enabled=progress), *callbacks],
        )
        trainer.remove_callback(transformers.trainer_callback.PrinterCallback)
        transformers.utils.logging.disable_progress_bar()  # "Writing model shards" bars
        trainer.train()
    return trainer.model


def evaluate(
    model: torch.nn.Module,
    tokenizer,
    test: datasets.Dataset,
    recipe: Recipe = Recipe(),
    runtime: Runtime | None = None,
) -> EntityScores:
    """Entity scores of `model` on an encoded test split."""
    runtime = runtime or Runtime()
    order = list(range(test.num_rows))
    if runtime.fast:
        # Sorted by length, each batch pads to nearly its own length; entity F1 sums counts
        # over sentences, so their order cannot change it (the per-sentence counts are put
        # back in the split's order below).
        lengths = [len(ids) for ids in test["input_ids"]]
        order = sorted(order, key=lengths.__getitem__)
        test = test.select(order)
    with tempfile.TemporaryDirectory(prefix="xner-") as scratch:
        args = compat.training_arguments(
            output_dir=scratch,
            report_to="none",
            disable_tqdm=True,
            log_level="warning",
            **_runtime_arguments(runtime, eval_only=True),
        )
        trainer = compat.trainer(
            tokenizer, model=model, args=args, data_collator=_collator(tokenizer, runtime)
        )
        prediction = trainer.predict(test)
    true, pred = logits_to_tags(
        np.asarray(prediction.predictions), prediction.label_ids, model.config.id2label
    )
    scores = entity_f1(true, pred, recipe.metric_mode)
    # The head's types, in its label order (PAN-X's PER, ORG, LOC for PAN-X's head).
    types = entity_types_of_tags(
        [model.config.id2label[i] for i in range(len(model.config.id2label))]
    )
    counts = np.empty((len(order), len(types), 3), dtype=np.int64)
    counts[order] = sentence_counts(true, pred, types, recipe.metric_mode)
    # A type with no entity in this test set has no F1 to give: seqeval would score it 0 when
    # it was predicted. Leave it out; the tables say "not in test" for it.
    support = counts[:, :, 0].sum(axis=0) + counts[:, :, 2].sum(axis=0)
    absent = {name for name, n in zip(types, support.tolist(), strict=True) if n == 0}
    per_type = {name: f1 for name, f1 in scores.per_type.items() if name not in absent}
    in_order: list = [None] * len(order)  # the tag rows back in the split's order
    for row, index in enumerate(order):
        in_order[index] = (true[row], pred[row])
    tags = ([t for t, _ in in_order], [p for _, p in in_order])
    return dataclasses.replace(scores, per_type=per_type, sentence_counts=counts, tags=tags)


class StepClock(transformers.TrainerCallback):
    """Time per optimizer step, from the end of the first step (warm-up, lazy CUDA and
    compilation set-up excluded) to the end of the last; the GPU is synchronised at those two
    points only, so the clock adds no per-step host synchronisation."""

    def __init__(self):
        self.steps = 0
        self.seconds_per_step = 0.0
        self._first: float | None = None

    @staticmethod
    def _now() -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 1:
            self._first = self._now()

    def on_train_end(self, args, state, control, **kwargs):
        self.steps = state.global_step
        if self._first is not None and state.global_step > 1:
            self.seconds_per_step = (self._now() - self._first) / (state.global_step - 1)


class ProgressBar(transformers.TrainerCallback):
    """One tqdm bar per training, showing the validation F1 of each epoch."""

    def __init__(self, description: str, enabled: bool = True):
        self.description = description
        self.enabled = enabled
        self.bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.bar = tqdm(
            total=state.max_steps, desc=self.description, disable=not self.enabled, leave=True
        )

    def on_step_end(self, args, state, control, **kwargs):
        self.bar.update(state.global_step - self.bar.n)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if metrics and "eval_f1" in metrics:
            self.bar.set_postfix(epoch=round(state.epoch or 0), val_f1=f"{metrics['eval_f1']:.3f}")

    def on_train_end(self, args, state, control, **kwargs):
        self.bar.close()
