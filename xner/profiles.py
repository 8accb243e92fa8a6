"""The two profiles of one code path: `report` (the real study) and `smoke` (CPU, minutes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from xner.data import REPORT_FRACTIONS
from xner.model import DEFAULT_MODEL, TINY
from xner.runtime import Runtime
from xner.scenarios import REPORT_FEW_SHOT_SIZES, STRATEGIES, Strategy
from xner.train import Recipe


@dataclass(frozen=True)
class Profile:
    """Model, data, corpus fractions, recipe and few-shot sizes of one way to run the study."""

    name: str
    model: str
    data: str
    recipe: Recipe
    few_shot_sizes: tuple[int, ...]
    fractions: Mapping[str, float] | None = None
    runtime: Runtime = field(default_factory=Runtime)

    def strategies(self) -> dict[str, Strategy]:
        """The study's strategies with this profile's few-shot sizes."""
        return {
            name: s.with_sizes(self.few_shot_sizes) if name == "few-shot" else s
            for name, s in STRATEGIES.items()
        }


PROFILES: dict[str, Profile] = {
    "report": Profile(
        "report",
        model=DEFAULT_MODEL,
        data="hub",
        recipe=Recipe(),
        few_shot_sizes=REPORT_FEW_SHOT_SIZES,
        fractions=REPORT_FRACTIONS,
    ),
    # The synthetic corpus is a fifth of PAN-X's size (4,000/2,000/2,000 rows before the
    # report's fractions), so the few-shot sizes are a fifth too. A tiny model trained from
    # scratch needs a far larger learning rate than a pretrained one.
    "smoke": Profile(
        "smoke",
        model=TINY,
        data="synthetic",
        recipe=Recipe(learning_rate=3e-3),
        few_shot_sizes=tuple(n // 5 for n in REPORT_FEW_SHOT_SIZES),
        fractions=REPORT_FRACTIONS,
        # One thread per training and pinned numerics: the same figures serial or in
        # parallel, on any x86-64 CPU, so smoke.toml can stay two-sided and exact.
        runtime=Runtime(threads=1, portable=True),
    ),
}


def get_profile(name: str) -> Profile:
    """One of PROFILES by name, with a clear error for an unknown one."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
