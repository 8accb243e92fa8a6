"""Fine-tuning with the report's recipe, and scoring a fine-tuned model on a test split."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

import datasets
import numpy as np
import torch
import transformers
from tqdm.auto import tqdm

from xner import compat
from xner.metrics import EntityScores, entity_f1, logits_to_tags
from xner.model import new_model


@dataclass(frozen=True)
class Recipe:
    """REPORT.md's hyper-parameters; the defaults are the report's."""

    learning_rate: float = 5e-5
    epochs: int = 3
    batch_size: int = 16
    weight_decay: float = 0.05
    eval_batch_size: int = 64  # not the report's: only speed depends on it
    metric_mode: str = "default"  # seqeval's conlleval-compatible scoring, as the report


def _collator(tokenizer):
    # Pads labels with -100 so padding never counts in the loss or the metric.
    return transformers.DataCollatorForTokenClassification(tokenizer, label_pad_token_id=-100)


def finetune(
    model_name: str,
    tokenizer,
    train: datasets.Dataset,
    validation: datasets.Dataset,
    recipe: Recipe = Recipe(),
    seed: int = 0,
    progress: bool = True,
    description: str = "fine-tuning",
) -> torch.nn.Module:
    """Fine-tune a fresh `model_name` on encoded `train` and return the best epoch's model.

    Validation entity F1 is measured every epoch and the best epoch's weights are restored.
    Checkpoints go to a temporary folder removed afterwards; nothing is reported or pushed.
    """
    transformers.set_seed(seed)
    model = new_model(model_name, len(tokenizer))
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
            per_device_eval_batch_size=recipe.eval_batch_size,
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
            dataloader_pin_memory=torch.cuda.is_available(),
        )
        trainer = compat.trainer(
            tokenizer,
            model=model,
            args=args,
            train_dataset=train,
            eval_dataset=validation,
            data_collator=_collator(tokenizer),
            compute_metrics=compute_metrics,
            callbacks=[ProgressBar(description, enabled=progress)],
        )
        trainer.remove_callback(transformers.trainer_callback.PrinterCallback)
        transformers.utils.logging.disable_progress_bar()  # "Writing model shards" bars
        trainer.train()
    return trainer.model


def evaluate(
    model: torch.nn.Module, tokenizer, test: datasets.Dataset, recipe: Recipe = Recipe()
) -> EntityScores:
    """Entity scores of `model` on an encoded test split."""
    with tempfile.TemporaryDirectory(prefix="xner-") as scratch:
        args = compat.training_arguments(
            output_dir=scratch,
            per_device_eval_batch_size=recipe.eval_batch_size,
            report_to="none",
            disable_tqdm=True,
            log_level="warning",
            dataloader_pin_memory=torch.cuda.is_available(),
        )
        trainer = compat.trainer(
            tokenizer, model=model, args=args, data_collator=_collator(tokenizer)
        )
        prediction = trainer.predict(test)
    true, pred = logits_to_tags(
        np.asarray(prediction.predictions), prediction.label_ids, model.config.id2label
    )
    return entity_f1(true, pred, recipe.metric_mode)


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
