"""The run options, declared once for both fronts, as pytest-benchmark declares its own: each
is `--NAME` of `xner run` and `--xner-NAME` under pytest, with the same checker (the `type`,
run when the value is parsed), help and default. `RunOptions` is what either front hands to
the engine. Plain: no torch.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xner.execution import flags
from xner.execution.schedule import Shard
from xner.spec.recipe import BOOTSTRAP_RESAMPLES
from xner.spec.runtime import DTYPES

PYTEST_PREFIX = "xner-"  # --xner-seeds under pytest is --seeds of `xner run`


@dataclass(frozen=True)
class Option:
    """One run option, for argparse's and pytest's `addoption` alike."""

    name: str  # without dashes or prefix: "seeds"
    help: str
    type: Callable[[str], object] | None = None
    default: object = None
    choices: tuple[str, ...] | None = None
    action: str = "store"  # or store_true, append
    metavar: str | None = None
    aliases: tuple[str, ...] = ()  # older spellings of `xner run` (`--out`)

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    def kwargs(self, typed: bool = True) -> dict:
        kwargs: dict = {"help": self.help, "action": self.action, "default": self.default}
        if self.action != "store_true":
            kwargs |= {"choices": self.choices, "metavar": self.metavar}
            kwargs |= {"type": self.type} if typed else {}
        return {key: value for key, value in kwargs.items() if value is not None}


RUN_OPTIONS = (
    Option("model", "hub name or save_pretrained folder; overrides the study's model"),
    Option(
        "data",
        "'hub', 'wikiann', 'synthetic' or a folder; overrides the study's data",
    ),
    Option(
        "strategy",
        "run only this strategy of each study; repeatable (default: all of them)",
        action="append",
        metavar="NAME",
    ),
    Option(
        "seeds",
        "comma-separated seeds, each once (0 to 2**32-1); each configuration runs once per "
        "seed (default 0)",
        type=flags.seed_list,
        default="0",
        metavar="S1,S2,...",
    ),
    Option(
        "results",
        "folder for the tables and result files (default: results/)",
        default="results",
        metavar="DIR",
        aliases=("--out",),
    ),
    Option(
        "cache",
        "folder of the training cache, shared by both fronts (default: cache/ in the results "
        "folder); a rerun trains only what it lacks",
        metavar="DIR",
    ),
    Option(
        "force",
        "retrain every configuration, ignoring the cache (and replacing its entries)",
        action="store_true",
        default=False,
    ),
    Option(
        "shard",
        "run only shard I of N: a deterministic, cost-balanced share of the training "
        "configurations; combine the shards' results.json with `xner merge`",
        type=flags.shard,
        metavar="I/N",
    ),
    Option(
        "dtype",
        "auto: bf16 mixed precision on GPUs that have it, fp32 on CPU (the default); or force one",
        choices=DTYPES,
    ),
    Option(
        "bootstrap",
        f"bootstrap resamples of each F1's 95%% interval (default {BOOTSTRAP_RESAMPLES}; 0: none)",
        type=flags.at_least(0, "resamples"),
        default=str(BOOTSTRAP_RESAMPLES),
        metavar="N",
    ),
    Option(
        "compile",
        "torch.compile the model in every training (lengths padded to multiples of 64 on a GPU)",
        action="store_true",
        default=None,
    ),
    Option(
        "keep",
        "at the end, keep the run's files in the history store DIR (a new subfolder named by "
        "date, commit and versions), for `xner history DIR`",
        metavar="DIR",
    ),
    Option("no-progress", "hide the training progress bars", action="store_true", default=False),
)


def add_run_options(add: Callable, prefix: str = "") -> None:
    """Every run option through `add` (argparse's `add_argument` or pytest's `addoption`),
    named `--{prefix}NAME`. argparse checks a value with the option's `type` as it parses;
    under pytest (a prefix) `RunOptions.parsed` runs the same checker, since pytest would
    print argparse's refusal as four lines where xner's usage errors are one."""
    for option in RUN_OPTIONS:
        names = [f"--{prefix}{option.name}"] + ([] if prefix else list(option.aliases))
        dest = f"{prefix.replace('-', '_')}{option.dest}"
        add(*names, dest=dest, **option.kwargs(typed=not prefix))


CACHE_FOLDER = "cache"  # inside the results folder, unless --xner-cache / --cache says where


def cache_folder(results: str | Path, cache: str | Path | None) -> Path:
    """The training cache of a run: `cache` where given, else cache/ in its results folder."""
    return Path(cache) if cache else Path(results) / CACHE_FOLDER


@dataclass(frozen=True)
class RunOptions:
    """What a run was asked for, from either front: the engine's input."""

    model: str | None = None
    data: str | None = None
    strategy: tuple[str, ...] | None = None
    seeds: tuple[int, ...] = (0,)
    results: str = "results"
    cache: str | None = None
    force: bool = False
    shard: Shard | None = None
    dtype: str | None = None
    bootstrap: int = BOOTSTRAP_RESAMPLES
    compile: bool | None = None
    keep: str | None = None
    no_progress: bool = False
    jobs: int = 1  # `xner run --jobs`; under pytest, pytest-xdist's -n
    extra: dict = field(default_factory=dict, compare=False)  # a front's own, for its record

    @classmethod
    def parsed(cls, get: Callable[[str], object], jobs: int = 1, prefix: str = "") -> RunOptions:
        """From a front's parsed values: `get(dest)` for each option's dest. A value still
        text goes through its option's checker: a FlagError names the option (`--PREFIXNAME`)."""
        values = {}
        for option in RUN_OPTIONS:
            value = get(option.dest)
            if option.type is not None and isinstance(value, str):
                try:
                    value = option.type(value)
                except ValueError as err:
                    raise flags.FlagError(f"--{prefix}{option.name}: {err}") from None
            values[option.dest] = value
        for name in ("strategy", "seeds"):
            if values[name] is not None:
                values[name] = tuple(values[name])
        return cls(**values, jobs=jobs)

    @classmethod
    def of_args(cls, args: argparse.Namespace) -> RunOptions:
        return cls.parsed(lambda dest: getattr(args, dest), jobs=getattr(args, "jobs", 1))
