"""One identity of a case (xner.spec.identity): two studies that share strategy names keep their
own cells in the tables, merge, compare and expected figures."""

import json

from tests.factories import make_result
from xner.cli.main import main
from xner.execution.schedule import config_key
from xner.reporting.compare import compare_runs
from xner.reporting.output import expected_cells, expected_record
from xner.reporting.tables import aggregate, tables
from xner.results.records import Result, load_results, save_results
from xner.spec.identity import CaseId, Cell, ConfigId
from xner.spec.study import load_study


def result(study: str, f1: float, **changes) -> Result:
    return make_result(f1, study=study, **changes)


def test_the_identity_carries_the_study():
    config = load_study("smoke").strategies["few-shot"].configs()[0]
    ident = ConfigId.of("smoke", config, 2)
    assert ident == ConfigId("smoke", "few-shot", f"fr:{config.size}", 2)
    assert config_key("smoke", config) == ident.name == f"smoke-few-shot-fr:{config.size}"
    assert ident.file_stem == f"smoke-few-shot-fr-{config.size}-seed2"
    assert ConfigId.of("other", config, 2).file_stem != ident.file_stem
    case = CaseId.of(result("other", 0.4))
    assert case == CaseId("other", "zero-shot", "de", 0, "fr") != CaseId.of(result("smoke", 0.4))
    assert case.cell == Cell("other", "zero-shot", "de", "fr") and case.cell.key == "de->fr"


def test_two_studies_with_the_same_strategies_keep_their_own_cells_and_tables():
    results = [result("smoke", 0.5), result("fast", 0.3)]
    assert {c: m.mean for c, m in aggregate(results).items()} == {
        Cell("smoke", "zero-shot", "de", "fr"): 0.5,
        Cell("fast", "zero-shot", "de", "fr"): 0.3,
    }
    text = tables(results)
    assert text.index("## fast") < text.index("0.3000") < text.index("## smoke")
    assert text.index("## smoke") < text.index("0.5000")
    assert text.count("### zero-shot") == 2


def test_one_study_reads_as_it_always_has():
    text = tables([result("smoke", 0.5)])
    assert text.startswith("### zero-shot\n\n| fine-tuned on   | fr ")
    assert not any(line.startswith("## ") for line in text.splitlines())


def test_expected_figures_and_comparisons_are_per_study():
    smoke, fast = result("smoke", 0.5), result("fast", 0.3)
    expected = [expected_record(smoke, {"f1": 0.5}), expected_record(fast, {"f1": 0.29})]
    assert expected_cells(expected) == {
        Cell("smoke", "zero-shot", "de", "fr"): 0.5,
        Cell("fast", "zero-shot", "de", "fr"): 0.29,
    }
    assert "0.3000 (exp 0.2900, +0.0100)" in tables([smoke, fast], expected_cells(expected))
    changes = {c.cell.study: c.change for c in compare_runs([smoke, fast], [smoke, fast])}
    assert changes == {"smoke": 0.0, "fast": 0.0}


def test_a_results_file_from_before_expected_records_named_their_study(tmp_path):
    old = [{"strategy": "zero-shot", "config": "de", "eval_lang": "fr", "f1": 0.49}]
    loaded = load_results(save_results(tmp_path / "r.json", [result("smoke", 0.5)], {}, old))
    assert expected_cells(loaded.expected) == {Cell("smoke", "zero-shot", "de", "fr"): 0.49}


def test_merging_runs_of_two_studies_keeps_their_cells_apart(tmp_path, capsys):
    a = save_results(tmp_path / "a.json", [result("smoke", 0.5)], {"versions": {}})
    b = save_results(tmp_path / "b.json", [result("fast", 0.3)], {"versions": {}})
    assert main(["merge", str(a), str(b), "--out", str(tmp_path / "out")]) == 0
    merged = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    assert sorted((r["study"], r["f1"]) for r in merged) == [("fast", 0.3), ("smoke", 0.5)]
    written = (tmp_path / "out" / "tables.md").read_text()
    assert "## fast" in written and "## smoke" in written
