"""The values of command-line flags, checked when they are parsed: before torch loads and
before anything trains or is written.

Each checker takes the flag's text and returns its value, or raises FlagError saying what
would be accepted. FlagError is argparse's ArgumentTypeError (so `type=` of an argparse option
reports the message itself) and a ValueError (so the pytest plugin turns it into a usage
error). Plain: no torch, no numpy.
"""

from __future__ import annotations

import argparse
import math

from xner.errors import XnerError
from xner.execution.schedule import Shard

MAX_SEED = 2**32 - 1  # numpy's and torch's seeds: 0 to 2**32 - 1


class FlagError(argparse.ArgumentTypeError, XnerError, ValueError):
    """A flag's value that cannot be used; the message says what would be accepted."""


def seed(text: str) -> int:
    """A seed: a whole number from 0 to 2**32 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise FlagError(f"a seed is a whole number from 0 to {MAX_SEED}, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise FlagError(f"a seed is a whole number from 0 to {MAX_SEED}, got {value}")
    return value


def seed_list(text: str) -> list[int]:
    """Comma-separated seeds, each once: `0,1,2`."""
    seeds = [seed(part.strip()) for part in text.split(",") if part.strip()]
    if not seeds:
        raise FlagError(f"comma-separated seeds from 0 to {MAX_SEED}, got {text!r}")
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise FlagError(f"each seed once, got {', '.join(map(str, repeated))} more than once")
    return seeds


def at_least(least: int, what: str):
    """A checker of whole numbers of at least `least` (`what` they count, for its name)."""

    def check(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < least:
            raise FlagError(f"a whole number of at least {least}, got {text!r}")
        return value

    check.__name__ = what
    return check


def non_negative(text: str) -> float:
    """A finite number, 0 or more (an allowance, a tolerance)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise FlagError(f"a number, 0 or more, got {text!r}")
    return value


def shard(text: str):
    """`I/N`: shard I of N (xner.execution.schedule.Shard)."""
    try:
        return Shard.parse(text)
    except ValueError as err:
        raise FlagError(str(err)) from None


def package_prefix(text: str) -> tuple[str, str]:
    """`PACKAGE=PREFIX`, both non-empty: `transformers=4.46`."""
    package, equals, prefix = text.partition("=")
    if not equals or not package.strip() or not prefix.strip() or '"' in text:
        raise FlagError(f"PACKAGE=PREFIX, e.g. transformers=4.46, got {text!r}")
    return package.strip(), prefix.strip()
