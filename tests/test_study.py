"""Study files: the built-in studies are files, a user's file is checked before anything
trains, and every mistake names the file and the key."""

import textwrap

import pytest

from xner.spec.runtime import Runtime
from xner.spec.study import StudyError, built_in_studies, load_study, matrix_file

EXAMPLE = """\
description = "English to Italian: zero-shot against three few-shot sizes"
model = "tiny"
data = "synthetic"
few_shot_sizes = [50, 100, 200]
version = 1

[recipe]
learning_rate = 3e-3
epochs = 1

[strategies.zero-shot]
train = ["en"]
eval = ["de", "fr", "it"]

[strategies.few-shot]
train = ["it"]
eval = ["it"]
few_shot = true
reference = "zero-shot"
"""


def write(tmp_path, text, name="study.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_built_in_studies_are_files_shipped_in_the_package():
    assert built_in_studies() == ["conll_smoke", "report", "smoke"]
    report, smoke = load_study("report"), load_study("smoke")
    assert (report.model, report.data, report.mark) == ("xlm-roberta-base", "hub", "gpu")
    assert (smoke.model, smoke.data, smoke.mark) == ("tiny", "synthetic", "smoke")
    assert report.fractions == {"de": 0.629, "fr": 0.229, "it": 0.084, "en": 0.059}
    # The smoke study keeps half of the report's share of each language: the same imbalance.
    assert smoke.fractions == {lang: share / 2 for lang, share in report.fractions.items()}
    assert smoke.recipe.learning_rate == 1e-2 and report.recipe.learning_rate == 5e-5
    assert smoke.runtime == Runtime(threads=1, portable=True) and report.runtime == Runtime()
    assert {s.version for s in report.strategies.values()} == {2}
    assert {s.version for s in smoke.strategies.values()} == {3}
    assert report.ref == "report" and report.strategies["few-shot"].reference == "zero-shot"


def test_a_study_file_reads_as_written(tmp_path):
    study = load_study(write(tmp_path, EXAMPLE))
    assert study.name == "study" and study.ref == str(tmp_path / "study.toml")
    assert study.languages == ("de", "fr", "it", "en"), "all of the synthetic data's"
    assert [c.label for c in study.strategies["few-shot"].configs()] == [
        "it:50", "it:100", "it:200"
    ]  # fmt: skip
    assert study.strategies["zero-shot"].eval_langs == ("de", "fr", "it")
    assert study.recipe.epochs == 1 and study.recipe.batch_size == 16, "defaults stay"
    assert study.langs() == ["en", "de", "fr", "it"]


def test_data_given_at_run_time_replaces_the_files_and_is_checked(tmp_path):
    study = load_study(write(tmp_path, EXAMPLE), data="hub")
    assert study.data == "hub" and len(study.languages) == 40
    (tmp_path / "panx").mkdir()
    with pytest.raises(StudyError, match=r"study.toml: languages: .*holds no PAN-X files"):
        load_study(tmp_path / "study.toml", data=str(tmp_path / "panx"))


def test_a_base_study_lends_its_keys(tmp_path):
    path = write(tmp_path, """\
        base = "smoke"
        [recipe]
        epochs = 1
        [strategies.matrix]
        train = ["de", "en"]
        eval = "all"
    """)  # fmt: skip
    study = load_study(path)
    assert study.model == "tiny" and study.fractions == load_study("smoke").fractions
    assert study.recipe.learning_rate == 1e-2 and study.recipe.epochs == 1, "merged by key"
    assert list(study.strategies) == ["matrix"], "strategies replace the base's"
    assert [c.label for c in study.strategies["matrix"].configs()] == ["de", "en"]


def test_matrix_file_writes_a_study_that_runs_like_any_other(tmp_path):
    path = matrix_file(tmp_path / "matrix.toml", "smoke", ["de", "en"], "all")
    study = load_study(path)
    (strategy,) = study.strategies.values()
    assert strategy.train_sets == (("de",), ("en",)) and strategy.eval_langs == study.languages
    whole = write(tmp_path, 'model = "tiny"\ndata = "hub"\n[strategies.x]\ntrain = ["de"]\n'
                  'eval = ["de"]\n', "whole.toml")  # fmt: skip
    hub = load_study(matrix_file(tmp_path / "m2.toml", str(whole), ["hi", "bn"], "all"))
    assert len(hub.strategies["matrix"].eval_langs) == 40, "all of the hub's PAN-X"
    some = load_study(matrix_file(tmp_path / "m3.toml", str(whole), ["hi"], ["ja", "ar"]))
    assert some.strategies["matrix"].eval_langs == ("ja", "ar")
    # The report's [fractions] name de, fr, it and en only: Hindi has none, so it keeps its
    # splits whole (xner.data.sampling), and de keeps its fraction.
    hi = load_study(matrix_file(tmp_path / "m4.toml", "report", ["hi"], ["de"]))
    assert hi.langs() == ["hi", "de"] and "hi" not in (hi.fractions or {})
    assert hi.fractions["de"] == 0.629


@pytest.mark.parametrize(
    "edit, key, words",
    [
        (("version = 1", "version = 1\ncolour = 'red'"), "colour", "unknown key"),
        (('train = ["en"]', 'train = ["xx"]'), "strategies.zero-shot.train",
         "unknown language 'xx'"),
        (('eval = ["de", "fr", "it"]', 'eval = ["de", "kk"]'), "strategies.zero-shot.eval",
         "unknown language 'kk' for 'synthetic'"),
        (('reference = "zero-shot"', 'reference = "one-shot"'), "strategies.few-shot.reference",
         "no strategy 'one-shot'"),
        (("few_shot_sizes = [50, 100, 200]", "few_shot_sizes = [50, 100, 5000]"),
         "strategies.few-shot.sizes", "5000 is larger than the 4000 training sentences"),
        (("few_shot_sizes = [50, 100, 200]", "few_shot_sizes = [50, -1]"), "few_shot_sizes",
         "positive"),
        (("epochs = 1", "epochs = 'one'"), "recipe.epochs", "must be like 3"),
        (("epochs = 1", "epoch = 1"), "recipe.epoch", "unknown key"),
        (("few_shot = true", "few_shot = true\nshots = 3"), "strategies.few-shot.shots",
         "unknown key"),
        (('model = "tiny"\n', ""), "model", "missing"),
        (('eval = ["it"]', 'eval = "it"'), "strategies.few-shot.eval", "language codes"),
        (("version = 1", "version = true"), "version", "must be int"),
    ],
)  # fmt: skip
def test_a_wrong_study_file_names_the_file_and_the_key(tmp_path, edit, key, words):
    old, new = edit
    assert old in EXAMPLE
    path = write(tmp_path, EXAMPLE.replace(old, new, 1))
    with pytest.raises(StudyError) as caught:
        load_study(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert words in message


def test_unknown_studies_and_broken_files_are_named(tmp_path):
    with pytest.raises(StudyError, match="no study 'nope'.*report, smoke"):
        load_study("nope")
    path = write(tmp_path, "model = \n")
    with pytest.raises(StudyError, match=rf"^{path}: "):
        load_study(path)
    looped = write(tmp_path, 'base = "loop.toml"\n', name="loop.toml")
    with pytest.raises(StudyError, match="leads back to itself"):
        load_study(looped)


def test_selecting_strategies_checks_their_names():
    study = load_study("smoke")
    assert list(study.select(["full"]).strategies) == ["full"]
    assert study.select(None) is study
    with pytest.raises(StudyError, match="no strategy 'one-shot'.*zero-shot, few-shot"):
        study.select(["one-shot"])


def test_constants_and_studies_load_without_torch():
    import subprocess
    import sys

    plain = [
        "xner.spec.cases", "xner.spec.expected", "xner.spec.study", "xner.spec.strategies",
        "xner.spec.labels", "xner.spec.languages", "xner.spec.recipe", "xner.spec.identity",
        "xner.spec.runtime", "xner.results.records", "xner.reporting.tables",
        "xner.reporting.output", "xner.reporting.merge", "xner.reporting.compare", "xner.writer",
        "xner.execution.schedule", "xner.execution.engine", "xner.execution.jobs",
    ]  # fmt: skip
    code = (
        f"import sys, {', '.join(plain)}; "
        # the report study is read when a table is first ordered, not on import
        "assert xner.reporting.tables._report_orders.cache_info().currsize == 0; "
        "xner.spec.study.load_study('report'); xner.reporting.tables.tables([]); "
        "heavy = [m for m in ('torch', 'transformers', 'datasets') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
