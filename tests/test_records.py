"""results.json's schema: what xner writes, and older files it still reads."""

import json

import pytest

from xner.cli.main import main
from xner.results.records import SCHEMA, load_results

# A record as xner 0.1 wrote it (schema 1): the study's name under `profile`, the runtime's
# compute dtype under `precision` beside the entity precision of the same name.
OLD_RECORD = {
    "strategy": "zero-shot", "train_langs": ["de"], "train_size": 100, "eval_lang": "fr",
    "seed": 0, "f1": 0.5, "precision": 0.4, "recall": 0.6, "per_type": {"PER": 0.5},
    "n_test": 10, "model": "tiny", "data_source": "synthetic", "train_seconds": 1.0,
    "eval_seconds": 0.1, "versions": {"xner": "0.1.0"}, "device": "cpu", "config": "de",
    "profile": "smoke", "strategy_version": 2,
    "runtime": {"precision": "bf16", "tf32": False, "threads": 1},
}  # fmt: skip


def old_file(path, records=(OLD_RECORD,)):
    payload = {"schema": 1, "run": {"versions": {"xner": "0.1.0"}}, "results": list(records),
               "expected": [{"strategy": "zero-shot", "config": "de", "eval_lang": "fr",
                             "f1": 0.55}]}  # fmt: skip
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def test_a_schema_1_file_reads_in_the_new_names(tmp_path):
    (result,) = load_results(old_file(tmp_path / "old.json")).results
    assert result.study == "smoke"
    assert result.runtime == {"dtype": "bf16", "tf32": False, "threads": 1}
    # Entity precision keeps its name and value: only the runtime's key moved.
    assert (result.precision, result.recall, result.f1) == (0.4, 0.6, 0.5)
    # Its expected figures take the study of its records, as before.
    assert load_results(tmp_path / "old.json").expected[0]["study"] == "smoke"


def test_merging_an_old_file_writes_the_current_schema(tmp_path, capsys):
    other = dict(OLD_RECORD, eval_lang="it", f1=0.3)
    old_file(tmp_path / "a.json")
    old_file(tmp_path / "b.json", [other])
    assert main(["merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                 "--out", str(tmp_path / "out")]) == 0  # fmt: skip
    saved = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert saved["schema"] == SCHEMA == 2
    assert sorted(r["eval_lang"] for r in saved["results"]) == ["fr", "it"]
    for record in saved["results"]:
        assert "profile" not in record and record["study"] == "smoke"
        assert record["runtime"]["dtype"] == "bf16" and "precision" not in record["runtime"]
    header = (tmp_path / "out" / "results.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "study" in header.split(",") and "profile" not in header


def test_a_schema_1_record_checks_as_a_new_one(tmp_path):
    bad = dict(OLD_RECORD, profile=3)
    with pytest.raises(ValueError, match=r"results\[0\]\.study: must be a string, got 3"):
        load_results(old_file(tmp_path / "bad.json", [bad]))


@pytest.mark.parametrize("schema", [0, 3, "2"])
def test_other_schemas_are_refused_in_one_line(tmp_path, schema):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"schema": schema, "results": [OLD_RECORD]}), encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_results(path)
    assert str(err.value) == f"{path}: results schema {schema!r}, this xner reads schema 1 or 2"
