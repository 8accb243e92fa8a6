"""`xner merge`: saved runs combine only when they measured the same thing the same way."""

import json

import pytest

from tests.factories import make_result
from xner.cli.main import main
from xner.reporting.merge import MergeError, merge_runs
from xner.results.records import Result, save_results

VERSIONS = {"xner": "1", "transformers": "5.24.0"}
RUN = {"versions": VERSIONS, "recipes": {"smoke": {"learning_rate": 0.003}}}


def result(lang: str, f1: float, **changes) -> Result:
    return make_result(f1, eval_lang=lang, versions=VERSIONS, **changes)


def save(tmp_path, name, results, run=RUN, expected=None):
    return save_results(tmp_path / f"{name}.json", results, dict(run), expected)


def test_disjoint_runs_merge_with_their_expected_figures(tmp_path):
    a = save(tmp_path, "a", [result("de", 0.7)], expected=[
        {"strategy": "zero-shot", "config": "de", "eval_lang": "de", "f1": 0.69}])  # fmt: skip
    b = save(tmp_path, "b", [result("fr", 0.2), result("de", 0.7)])  # the same de: agrees
    merged = merge_runs([a, b])
    assert [(r.eval_lang, r.f1) for r in merged.results] == [("de", 0.7), ("fr", 0.2)]
    assert merged.expected[0]["f1"] == 0.69
    assert merged.run["merged_from"] == [str(a), str(b)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"results": [result("de", 0.71)]}, "contradict each other on zero-shot de->de seed 0"),
        ({"run": RUN | {"versions": VERSIONS | {"transformers": "4.46.3"}}},
         "disagree on library versions"),
        ({"run": RUN | {"recipes": {"smoke": {"learning_rate": 0.001}}}},
         "disagree on the recipe of study 'smoke'"),
        ({"results": [result("fr", 0.2, model="other")]}, "disagree on the model of study"),
        ({"results": [result("fr", 0.2, data_source="/data")]}, "disagree on the data of"),
        ({"results": [result("fr", 0.2, runtime={"dtype": "bf16"})]},
         "disagree on the dtype of study 'smoke'"),
    ],
    ids=["contradiction", "versions", "recipe", "model", "data", "dtype"],
)  # fmt: skip
def test_runs_that_disagree_are_refused_with_the_reason(tmp_path, change, message):
    a = save(tmp_path, "a", [result("de", 0.7)])
    b = save(tmp_path, "b", change.get("results", [result("fr", 0.2)]), change.get("run", RUN))
    with pytest.raises(MergeError, match=message):
        merge_runs([a, b])


def test_cli_merge_error_is_one_line(tmp_path, capsys):
    a = save(tmp_path, "a", [result("de", 0.7)])
    b = save(tmp_path, "b", [result("de", 0.5)])
    assert main(["merge", str(a), str(b), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xner: error: ") and err.count("\n") == 1 and "contradict" in err
    assert not (tmp_path / "out").exists()


def test_cli_merge_writes_every_file(tmp_path):
    a = save(tmp_path, "a", [result("de", 0.7)])
    b = save(tmp_path, "b", [result("fr", 0.2)])
    assert main(["merge", str(a), str(b), "--out", str(tmp_path / "out")]) == 0
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"results.json", "results.csv", "tables.md", "transfer.png"} <= names
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(saved["results"]) == 2 and len(saved["run"]["merged_from"]) == 2
