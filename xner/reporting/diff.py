"""Two saved runs sentence by sentence: which test sentences changed their predictions, how,
and what that did to F1 (`xner diff RUN_A RUN_B`).

Cells are matched by strategy, training configuration, evaluation language and seed, not by
study, so that two studies (one study at two learning rates, say) can be diffed. Both runs
must have scored the same test sentences: each record's test fingerprint
(xner.results.predictions.split_fingerprint) must agree, or the diff is refused.

A sentence changed when its predicted tags differ between the runs. Of its predicted
entities (as seqeval chunks them), it *gained* a correct one when B finds a gold entity A
missed, *lost* one when A found a gold entity B misses, *changed type* when an entity of A
has the same span in B under another type, and *changed boundary* when an entity of A
overlaps one of B of the same type with another span; a sentence can be several of these.
Sentences are listed worst first: most correct entities lost net, then most entities changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xner.errors import XnerError
from xner.results.intervals import Difference, decode_counts, paired_bootstrap, sentence_entities
from xner.results.predictions import Sentence, read_predictions
from xner.results.records import Result, load_results

RESAMPLES = 1000

Key = tuple[str, str, str, int]  # (strategy, config, eval_lang, seed)


class DiffError(XnerError, ValueError):
    """Two runs `xner diff` cannot compare, or a --cell neither names: one line."""


@dataclass(frozen=True)
class SentenceChange:
    """One test sentence whose predicted tags differ between run A and run B."""

    index: int
    tokens: list[str]
    gold: list[str]
    a: list[str]
    b: list[str]
    gained: int  # gold entities B finds and A does not
    lost: int  # gold entities A finds and B does not
    type_changed: int
    boundary_changed: int

    @property
    def entities_changed(self) -> bool:
        return bool(self.gained or self.lost or self.type_changed or self.boundary_changed)


@dataclass(frozen=True)
class CellDiff:
    key: Key
    f1_a: float
    f1_b: float
    sentences: int
    difference: Difference | None
    changes: list[SentenceChange]  # worst first

    def count(self, what: str) -> int:
        return sum(1 for c in self.changes if getattr(c, what))


def _key(r: Result) -> Key:
    return (r.strategy, r.config, r.eval_lang, r.seed)


def _by_key(path: Path, results: Sequence[Result]) -> dict[Key, Result]:
    found: dict[Key, Result] = {}
    for r in results:
        if _key(r) in found:
            raise DiffError(
                f"{path}: two records of {r.strategy} {r.config}->{r.eval_lang} seed {r.seed} "
                f"(studies {found[_key(r)].study!r} and {r.study!r}); diff runs of one study"
            )
        found[_key(r)] = r
    return found


def parse_cell(text: str) -> tuple[str | None, str, str]:
    """`--cell`: `CONFIG->LANG` or `STRATEGY CONFIG->LANG` (as REGRESSION lines name them)."""
    strategy, _, key = text.strip().rpartition(" ")
    config, arrow, lang = key.partition("->")
    if not arrow or not config or not lang:
        raise DiffError(f"--cell {text!r}: expected CONFIG->LANG or 'STRATEGY CONFIG->LANG'")
    return (strategy.strip() or None, config, lang)


def diff_runs(path_a: str | Path, path_b: str | Path, cell: str | None = None) -> list[CellDiff]:
    """Every cell the two runs share (or the one `cell` names), compared sentence by sentence."""
    path_a, path_b = Path(path_a), Path(path_b)
    a = _by_key(path_a, load_results(path_a).results)
    b = _by_key(path_b, load_results(path_b).results)
    shared = [k for k in a if k in b]
    if cell is not None:
        strategy, config, lang = parse_cell(cell)
        shared = [k for k in shared if k[1:3] == (config, lang) and strategy in (None, k[0])]
        if not shared:
            raise DiffError(f"--cell {cell!r}: not a cell both {path_a} and {path_b} have")
    if not shared:
        raise DiffError(
            f"{path_a} and {path_b} share no cell (strategy, configuration, evaluation "
            "language and seed)"
        )
    for k in shared:
        fa, fb = a[k].test_fingerprint, b[k].test_fingerprint
        if fa is None or fb is None:
            old = path_a if fa is None else path_b
            raise DiffError(f"{old}: {k[1]}->{k[2]} has no test fingerprint (an older xner)")
        if fa != fb:
            raise DiffError(
                f"{path_a} and {path_b} scored different test sentences on {k[2]} (fingerprints "
                f"{fa} and {fb}): a diff needs the same test data"
            )
    return [_cell(k, path_a, a[k], path_b, b[k]) for k in shared]


def _predictions(path: Path, r: Result) -> list[Sentence]:
    if r.predictions is None:
        raise DiffError(
            f"{path}: {r.config}->{r.eval_lang} seed {r.seed} has no predictions file "
            "(written by an older xner, or a cache write that failed)"
        )
    return read_predictions(path.parent / r.predictions)


def _cell(key: Key, path_a: Path, a: Result, path_b: Path, b: Result) -> CellDiff:
    sa, sb = _predictions(path_a, a), _predictions(path_b, b)
    if [(s.index, s.tokens, s.gold) for s in sa] != [(s.index, s.tokens, s.gold) for s in sb]:
        raise DiffError(
            f"{path_a.parent / a.predictions} and {path_b.parent / b.predictions}: the words or "
            "gold tags differ (another tokenizer or max_length?): a diff needs the same words"
        )
    difference = None
    if a.sentence_counts and b.sentence_counts:
        ca, cb = decode_counts(a.sentence_counts), decode_counts(b.sentence_counts)
        if ca.shape == cb.shape:
            difference = paired_bootstrap(ca, cb, RESAMPLES)
    mode = "default"  # the records' metric mode is the recipe's; default is conlleval's
    changes = []
    for x, y in zip(sa, sb, strict=True):
        if x.predicted == y.predicted:
            continue
        gold, ea, eb = (sentence_entities([t], mode)[0] for t in (x.gold, x.predicted, y.predicted))
        only_a, only_b = ea - eb, eb - ea
        changes.append(
            SentenceChange(
                x.index, x.tokens, x.gold, x.predicted, y.predicted,
                gained=len((eb & gold) - ea), lost=len((ea & gold) - eb),
                type_changed=sum(
                    1 for t, s, e in only_a if any(s == s2 and e == e2 and t != t2
                                                   for t2, s2, e2 in only_b)
                ),
                boundary_changed=sum(
                    1 for t, s, e in only_a if any(t == t2 and (s, e) != (s2, e2) and s <= e2
                                                   and s2 <= e for t2, s2, e2 in only_b)
                ),
            )
        )  # fmt: skip
    changes.sort(key=_worst_first)
    return CellDiff(key, a.f1, b.f1, len(sa), difference, changes)


def _worst_first(c: SentenceChange) -> tuple[int, int, int]:
    return (c.gained - c.lost, -(c.lost + c.type_changed + c.boundary_changed), c.index)


def format_diff(diffs: Sequence[CellDiff], limit: int = 5) -> str:
    """What `xner diff` prints: per cell a summary line and its `limit` worst sentences."""
    out = []
    for d in diffs:
        strategy, config, lang, seed = d.key
        paired = f"paired difference {d.difference}" if d.difference else "no paired difference"
        entities = sum(1 for c in d.changes if c.entities_changed)
        out.append(
            f"{strategy} {config}->{lang} seed {seed}: F1 {d.f1_a:.4f} -> {d.f1_b:.4f}, {paired}"
        )
        out.append(
            f"  {len(d.changes)} of {d.sentences} test sentences changed their predicted tags "
            f"({entities} their entities): {d.count('gained')} gained a correct entity, "
            f"{d.count('lost')} lost one, {d.count('type_changed')} changed type, "
            f"{d.count('boundary_changed')} changed boundary"
        )
        for c in d.changes[:limit]:
            out.append(
                f"  sentence {c.index}: lost {c.lost}, gained {c.gained}, type {c.type_changed}, "
                f"boundary {c.boundary_changed}"
            )
            width = max(len(t) for t in [*c.tokens, "token"])
            tag = max(len(t) for t in [*c.gold, *c.a, *c.b, "gold"])
            out.append(f"    {'token':<{width}}  {'gold':<{tag}}  {'A':<{tag}}  B")
            for token, g, x, y in zip(c.tokens, c.gold, c.a, c.b, strict=True):
                mark = "  <" if x != y else ""
                out.append(f"    {token:<{width}}  {g:<{tag}}  {x:<{tag}}  {y}{mark}")
        if len(d.changes) > limit:
            out.append(f"  ... {len(d.changes) - limit} more (--limit)")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
