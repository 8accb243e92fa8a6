"""Intervals on every figure of a run, and two runs compared by a paired bootstrap: stored
counts, tables, CSV, `xner compare` and the regression rule of `--xner-compare`."""

import dataclasses
import json

import numpy as np
import pytest

from tests.factories import make_result
from xner.cli.main import main
from xner.reporting.compare import CellComparison, compare_runs
from xner.reporting.output import results_csv
from xner.reporting.tables import tables
from xner.results.intervals import (
    Difference,
    bootstrap,
    decode_counts,
    encode_counts,
    rebootstrap,
    sentence_counts,
)
from xner.results.records import save_results


def test_counts_survive_results_json_and_bad_text_is_named():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 3, size=(500, 3, 3)) * (rng.random((500, 3, 1)) < 0.2)
    text = encode_counts(counts)
    assert (decode_counts(json.loads(json.dumps(text))) == counts).all()
    assert len(text) < counts.size, "compressed"
    with pytest.raises(ValueError, match="sentence counts that xner did not write"):
        decode_counts("3,3;not base64!")


def scored(true, pred, seed=0, strategy="zero-shot", config="de", lang="fr"):
    """A Result whose F1 and interval come from real tags, as the runner records them."""
    counts = sentence_counts(true, pred)
    tp, fp, fn = counts.sum(axis=(0, 1))
    f1 = 2 * tp / (2 * tp + fp + fn)
    return make_result(float(f1), strategy=strategy, train_langs=[config], train_size=10,
                       eval_lang=lang, seed=seed, n_test=len(true), config=config, study="s",
                       interval=bootstrap(counts).to_dict(),
                       sentence_counts=encode_counts(counts))  # fmt: skip


def one_entity_runs(n_right: int, n: int = 200):
    """n one-entity sentences, the first `n_right` predicted right, the rest missed."""
    true = [["B-PER", "O"]] * n
    pred = [["B-PER", "O"]] * n_right + [["O", "O"]] * (n - n_right)
    return true, pred


def test_every_cell_and_csv_row_carries_its_interval():
    result = scored(*one_entity_runs(150))
    interval = result.interval["micro"]
    assert interval["low"] < result.f1 < interval["high"]
    text = tables([result])
    assert f"{result.f1:.4f} [{interval['low']:.4f}, {interval['high']:.4f}]" in text
    row = results_csv([result]).splitlines()[1].split(",")
    header = results_csv([result]).splitlines()[0].split(",")
    assert float(row[header.index("f1_low")]) == interval["low"]
    assert float(row[header.index("f1_high")]) == interval["high"]
    assert rebootstrap([result], 0)[0].interval is None
    assert rebootstrap([result], 200)[0].interval["resamples"] == 200


def test_seeds_give_a_t_interval_around_their_mean():
    a, b = scored(*one_entity_runs(140), seed=0), scored(*one_entity_runs(160), seed=1)
    text = tables([a, b])
    mean, std = (a.f1 + b.f1) / 2, float(np.std([a.f1, b.f1], ddof=1))
    low = mean - 12.706 * std / np.sqrt(2)  # t(0.975, 1 df) = 12.706
    assert f"{mean:.4f} ± {std:.4f} [{low:.4f}," in text


def test_identical_runs_never_differ_and_a_better_run_is_significant():
    base = [scored(*one_entity_runs(120))]
    (same,) = compare_runs(base, base)
    assert same.difference.delta == 0 and not same.difference.significant
    (better,) = compare_runs(base, [scored(*one_entity_runs(170))])
    assert better.difference.significant and better.difference.low > 0
    assert not better.fell(0.01)


def test_a_fall_fails_only_when_it_is_beyond_the_allowance_and_significant():
    cell = ("zero-shot", "de", "fr")
    noise = Difference(-0.03, -0.07, 0.01, 0.2, significant=False)
    real = Difference(-0.03, -0.05, -0.01, 0.001, significant=True)
    assert not CellComparison(cell, 0.60, 0.57, noise).fell(0.01)
    assert CellComparison(cell, 0.60, 0.57, noise).fell(0.01, plain=True)
    assert CellComparison(cell, 0.60, 0.57, real).fell(0.01)
    assert not CellComparison(cell, 0.60, 0.595, real).fell(0.01), "within the allowance"
    assert CellComparison(cell, 0.60, 0.57, None).fell(0.01), "no counts: the plain rule"


def test_xner_compare_prints_both_runs_with_significance(tmp_path, capsys):
    save_results(tmp_path / "a.json", [scored(*one_entity_runs(120))])
    save_results(tmp_path / "b.json", [scored(*one_entity_runs(170))])
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    f1 = lambda right: 2 * right / (2 * right + 200 - right)  # noqa: E731 (no false positives)
    assert f"{f1(170) - f1(120):+.4f} *" in out, "marked significant"
    assert "1 cell(s), 1 compared by paired bootstrap" in out and "1 significant" in out
    other = dataclasses.replace(scored(*one_entity_runs(120)), eval_lang="it")
    save_results(tmp_path / "c.json", [other])
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "c.json")]) == 2
    assert "share no cell" in capsys.readouterr().err


def test_tolerances_take_the_larger_of_three_seed_spreads_and_the_half_width(tmp_path, capsys):
    import tomllib

    runs = [scored(*one_entity_runs(right), seed=seed) for seed, right in enumerate((150, 156))]
    save_results(tmp_path / "seeds.json", runs)
    assert main(["tolerances", str(tmp_path / "seeds.json")]) == 0
    cells = tomllib.loads(capsys.readouterr().out)["zero-shot"]["cells"]
    spread = 3 * float(np.std([r.f1 for r in runs], ddof=1))
    half = max((r.interval["micro"]["high"] - r.interval["micro"]["low"]) / 2 for r in runs)
    assert cells["de->fr"]["tolerance"] == pytest.approx(max(spread, half), abs=0.001)
    assert cells["de->fr"]["tolerance"] >= max(spread, half), "rounded up, never down"


def test_per_type_cells_and_each_seed_carry_their_bootstrap_interval():
    a, b = scored(*one_entity_runs(140), seed=0), scored(*one_entity_runs(160), seed=1)
    text = tables([a, b])
    per_seed = text[text.index("### F1 per seed") :]
    for r in (a, b):
        micro = r.interval["micro"]
        assert (
            f"| {r.seed}      | {r.f1:.4f} [{micro['low']:.4f}, {micro['high']:.4f}] |" in per_seed
        )
    single = tables([a])
    per = a.interval["per_type"]["PER"]
    assert (
        f"{a.f1:.4f} [{per['low']:.4f}, {per['high']:.4f}]" in single.split("### F1 per entity")[1]
    )
    assert "### F1 per seed" not in single
