"""`xner history`: saved runs side by side, each step between neighbours tested by the paired
bootstrap, and the store that keeps runs (`xner run --keep`)."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from xner.cli.main import main
from xner.reporting.history import build_history, load_runs, order_runs
from xner.reporting.store import keep_run, run_folder_name
from xner.results.intervals import bootstrap, encode_counts
from xner.results.records import Result, save_results

# Smoke-like cells: (strategy, config, lang) -> sentences of 300 predicted right.
CELLS = {
    ("zero-shot", "de", "de"): 270,
    ("zero-shot", "de", "fr"): 180,
    ("zero-shot", "de", "it"): 160,
    ("zero-shot", "de", "en"): 140,
    ("few-shot", "fr:100", "fr"): 120,
    ("few-shot", "fr:400", "fr"): 240,
}
N = 300
COMMIT = "9424e53" + "0" * 33


def record(strategy, config, lang, right, n=N, gold_per_sentence=1):
    """A Result from per-sentence counts: `right` of `n` one-PER sentences found, the rest
    missed; its F1 and interval computed from those counts as the runner does."""
    counts = np.zeros((n, 3, 3), dtype=np.int64)
    counts[:right, 0, 0] = gold_per_sentence  # true positives
    counts[right:, 0, 2] = gold_per_sentence  # missed
    tp, fp, fn = counts.sum(axis=(0, 1))
    f1 = float(2 * tp / (2 * tp + fp + fn))
    size = int(config.split(":")[1]) if ":" in config else None
    return Result(
        strategy=strategy, train_langs=[config.split(":")[0]], train_size=size or 1000,
        eval_lang=lang, seed=0, f1=f1, precision=1.0, recall=f1, per_type={"PER": f1},
        n_test=n, model="tiny", data_source="synthetic", train_seconds=1.0, eval_seconds=0.1,
        versions={}, device="cpu", config=config, study="smoke", size=size,
        reference="zero-shot" if size else None,
        interval=bootstrap(counts).to_dict(), sentence_counts=encode_counts(counts),
    )  # fmt: skip


def save_run(path: Path, created: str, learning_rate: float, shift: int = 0, **facts) -> Path:
    """A smoke-like results.json: every cell of CELLS, `shift` more sentences right in each."""
    results = [record(*cell, right + shift) for cell, right in CELLS.items()]
    run = {
        "created": created,
        "commit": COMMIT,
        "device": "cpu",
        "study": "smoke",
        "versions": {"xner": "0.1.0", "torch": "2.13.0", "transformers": "5.24.0"},
        "recipes": {"smoke": {"learning_rate": learning_rate, "epochs": 3}},
    } | facts
    return save_results(path, results, run)


@pytest.fixture
def three_runs(tmp_path):
    """Two identical runs and, dated between them, one at another learning rate whose model
    finds 45 more entities of each cell's 300."""
    return [
        save_run(tmp_path / "a" / "results.json", "2026-12-01T10:00:00+00:00", 2e-3),
        save_run(tmp_path / "c" / "results.json", "2026-12-01T11:00:00+00:00", 5e-3, shift=45),
        save_run(tmp_path / "b" / "results.json", "2026-12-01T12:00:00+00:00", 2e-3),
    ]


def md_table(text: str, heading: str) -> list[list[str]]:
    """The rows of the Markdown table under `heading` (header first, separator dropped)."""
    block = text.split(heading, 1)[1].split("\n\n")[1]
    rows = [line.strip("|").split("|") for line in block.splitlines()]
    return [[c.strip() for c in row] for i, row in enumerate(rows) if i != 1]


def test_only_the_steps_next_to_the_other_learning_rate_are_flagged(three_runs, tmp_path, capsys):
    out = tmp_path / "history"
    assert main(["history", *map(str, three_runs), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    # Ordered by date (release and commit alike): a, c, b; c's steps are its neighbours'.
    data = json.loads((out / "history.json").read_text())
    assert [Path(r["source"]).parent.name for r in data["runs"]] == ["a", "c", "b"]
    assert len(data["cells"]) == len(CELLS)
    for cell in data["cells"]:
        steps = {(s["from"], s["to"]): s for s in cell["steps"]}
        assert set(steps) == {(0, 1), (1, 2)}, "each step is between neighbours"
        assert steps[(0, 1)]["significant"] and steps[(0, 1)]["change"] > 0
        assert steps[(1, 2)]["significant"] and steps[(1, 2)]["change"] < 0
        assert "recipes.smoke.learning_rate 0.002 -> 0.005" in steps[(0, 1)]["changed"]
        assert steps[(0, 1)]["low"] > 0 and steps[(1, 2)]["high"] < 0
        # The identical runs a and b carry the same figures.
        assert cell["series"][0] == cell["series"][2]
    assert printed.count("STEP ") == 2 * len(CELLS)
    assert f"3 run(s), {len(CELLS)} cell(s), {2 * len(CELLS)} step(s): 12 significant" in printed

    md = (out / "history.md").read_text()
    table = md_table(md, "## F1 per cell and run")
    assert len(table) == 1 + len(CELLS), "one row per cell"
    assert all(len(row) == 1 + 3 for row in table), "one column per run"
    header, rows = table[0], table[1:]
    assert header[0] == "cell" and len(set(header[1:])) == 3
    assert [row[0] for row in rows][:2] == ["zero-shot de->de", "zero-shot de->fr"]
    # de->de: 270 of 300 found: F1 2*270/(2*270+30) = 0.9474; at c 300 of 300: 1.0.
    de = rows[0]
    assert de[1].startswith("0.9474 [") and de[3].startswith("0.9474 [")
    assert de[2].startswith("1.0000") and "↑ +0.0526*" in de[2] and "↓ -0.0526*" in de[3]

    csv_rows = list(csv.DictReader(io.StringIO((out / "history.csv").read_text())))
    assert len(csv_rows) == 3 * len(CELLS)
    assert {r["significant"] for r in csv_rows if r["step"]} == {"true"}
    assert {p.name for p in out.glob("*.png")} == {"history-zero-shot.png", "history-few-shot.png"}
    assert (out / "history.html").stat().st_size > 10_000


def test_identical_runs_step_without_a_flag_and_a_fall_into_the_last_fails(tmp_path, capsys):
    a = save_run(tmp_path / "a.json", "2026-12-01T10:00:00+00:00", 2e-3)
    b = save_run(tmp_path / "b.json", "2026-12-01T11:00:00+00:00", 2e-3)
    worse = save_run(tmp_path / "w.json", "2026-12-01T12:00:00+00:00", 2e-4, shift=-40)
    out = str(tmp_path / "out")
    assert main(["history", str(a), str(b), "--out", out, "--fail-on-fall"]) == 0
    assert "0 significant" in capsys.readouterr().out
    code = main(["history", str(a), str(b), str(worse), "--out", out, "--fail-on-fall"])
    printed = capsys.readouterr().out
    assert code == 1
    assert printed.count("FALL ") == len(CELLS)
    assert "xner history: 6 cell(s) fell significantly" in printed
    # Ordered by learning rate instead, the lower one comes first: a rise into the last run.
    by_rate = ["--by", "recipes.smoke.learning_rate", "--fail-on-fall"]
    assert main(["history", str(a), str(worse), "--out", out, *by_rate]) == 0
    data = json.loads((tmp_path / "out" / "history.json").read_text())
    assert [Path(r["source"]).name for r in data["runs"]] == ["w.json", "a.json"]


def test_runs_on_other_test_data_are_not_compared(tmp_path):
    a = save_run(tmp_path / "a.json", "2026-12-01T10:00:00+00:00", 2e-3)
    other = tmp_path / "o.json"
    run = json.loads(a.read_text())["run"] | {"created": "2026-12-01T11:00:00+00:00"}
    # Same cells; one has 200 test sentences, one the same 300 but two gold entities each.
    results = [record(*cell, right) for cell, right in CELLS.items()]
    results[0] = record("zero-shot", "de", "de", 100, n=200)
    results[1] = record("zero-shot", "de", "fr", 180, gold_per_sentence=2)
    save_results(other, results, run)
    history = build_history(load_runs([a, other]), resamples=200)
    whys = {c.cell.key: c.steps[0].why for c in history.cells}
    assert whys["de->de"] == whys["de->fr"] == "another test set"
    assert whys["de->it"] == "" and not any(c.steps[0].significant for c in history.cells)
    from xner.reporting.history import history_md

    md = history_md(history)
    assert md.count("≠ test set") == 2 and "## Steps not tested" in md


def test_order_is_release_then_commit_then_date(tmp_path):
    def run(name, transformers, commit, created):
        path = save_run(tmp_path / f"{name}.json", created, 2e-3, commit=commit,
                        versions={"transformers": transformers, "torch": "2.13.0"})  # fmt: skip
        return path

    paths = [
        run("r5", "5.24.0", "bbb", "2026-12-01T09:00:00+00:00"),
        run("r440", "4.40.2", "ccc", "2026-12-03T09:00:00+00:00"),
        run("r457-late", "4.57.6", "aaa", "2026-12-02T09:00:00+00:00"),
        run("r457-early", "4.57.6", "zzz", "2026-12-01T09:00:00+00:00"),
        run("r457-zzz-again", "4.57.6", "zzz", "2026-12-04T09:00:00+00:00"),
        run("r446", "4.46.3", "ccc", "2026-12-01T09:00:00+00:00"),
    ]
    ordered = [Path(r.source).stem for r in order_runs(load_runs(paths))]
    # 4.40 < 4.46 < 4.57 < 5.24 (release order, not text); within 4.57 commit zzz ran first.
    assert ordered == ["r440", "r446", "r457-early", "r457-zzz-again", "r457-late", "r5"]
    by_date = [Path(r.source).stem for r in order_runs(load_runs(paths), ["created"])]
    assert by_date[0] in ("r5", "r457-early", "r446") and by_date[-1] == "r457-zzz-again"


def test_bad_inputs_are_one_line(tmp_path, capsys):
    assert main(["history", str(tmp_path / "nothing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["history", str(tmp_path / "empty")]) == 2
    assert "no results.json in it or in its subfolders" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": 1, "run": {}, "results": [{"strategy": 3}]}')
    assert main(["history", str(bad)]) == 2
    assert "bad.json: results[0]" in capsys.readouterr().err


def _keep(args) -> str:
    store, source = args
    run = json.loads(Path(source).read_text())["run"]
    return keep_run(store, run, [Path(source)]).name


def test_the_store_keeps_every_run_in_its_own_folder_even_concurrently(tmp_path, capsys):
    source = save_run(tmp_path / "run" / "results.json", "2026-12-01T10:00:00+00:00", 2e-3)
    store = tmp_path / "store"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        names = pool.map(_keep, [(store, source)] * 4)
    base = run_folder_name(json.loads(source.read_text())["run"])
    assert base == "20261201T100000Z-9424e53-transformers-5.24.0-torch-2.13.0"
    assert sorted(names) == sorted([base, f"{base}-2", f"{base}-3", f"{base}-4"])
    for name in names:
        assert (store / name / "results.json").read_bytes() == source.read_bytes()
    # The store reads whole: four identical runs, no step flagged.
    out = tmp_path / "h"
    assert main(["history", str(store), "--out", str(out), "--bootstrap", "200"]) == 0
    assert "4 run(s), 6 cell(s), 18 step(s): 0 significant" in capsys.readouterr().out
    # --latest keeps one run per release: one column.
    assert main(["history", str(store), "--out", str(out), "--latest", "transformers"]) == 0
    assert "1 run(s)" in capsys.readouterr().out


def test_the_documented_commands_parse():
    """Every `xner run`/`xner history` line of docs/history.md (the CI recipe's included),
    tox.ini and .ci/run names options the command has."""
    import re
    import shlex

    from xner.cli.main import build_parser

    root = Path(__file__).parent.parent
    texts = [(root / name).read_text() for name in ("docs/history.md", "tox.ini", ".ci/run")]
    lines = [
        line.strip().removeprefix("#").strip().removeprefix("run:").strip()
        for text in texts
        for line in text.splitlines()
        if re.match(r"\s*(#\s*|run:\s*)?xner (run|history) [^\[]*$", line)
    ]
    assert len(lines) >= 5, lines
    parser = build_parser()
    for line in lines:
        words = shlex.split(line.replace('"$XNER_HISTORY"', "store"))[1:]
        args = parser.parse_args(words)
        assert args.command in ("run", "history"), line
    tox = (root / "tox.ini").read_text()
    assert "--xner-keep {env:XNER_HISTORY:{tox_root}/results/history}" in tox


def test_run_refuses_a_store_it_cannot_write_before_training(tmp_path, capsys):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    args = ["run", "smoke", "--strategy", "zero-shot", "--out", str(tmp_path / "out")]
    assert main([*args, "--keep", str(blocked), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{blocked}: cannot write results here" in err
    assert not (tmp_path / "out" / "results.json").exists()
