"""The report's plots from generated results: a 40-language transfer matrix stays legible, and
learning curves are drawn against their reference strategy's lines."""

import random

from PIL import Image

from tests.factories import make_result
from xner.reporting.plots import ANNOTATE_UP_TO, plot_few_shot, plot_transfer
from xner.reporting.tables import tables
from xner.spec.languages import PANX_LANGS


def result(strategy, train, lang, f1, size=None, reference=None):
    label = "+".join(train) + (f":{size}" if size else "")
    return make_result(f1, strategy=strategy, train_langs=list(train), train_size=size or 100,
                       eval_lang=lang, per_type={}, config=label, study="s", size=size,
                       reference=reference)  # fmt: skip


def test_a_40_column_matrix_renders_legibly(tmp_path):
    rng = random.Random(0)
    sources = ("de", "en", "hi")
    results = [result("matrix", (src,), lang, rng.random()) for src in sources
               for lang in PANX_LANGS]  # fmt: skip
    path = plot_transfer(results, tmp_path / "transfer.png")
    width, height = Image.open(path).size
    assert len(PANX_LANGS) > ANNOTATE_UP_TO
    # 40 upright labels need about 0.35 inch each at 120 dpi; the figure stays under 18 inches.
    assert 40 * 0.3 * 120 < width <= 18 * 120 and height < width
    table = tables(results)
    header = next(line for line in table.splitlines() if line.startswith("| fine-tuned on"))
    assert header.count("|") == 40 + 3, "a column per target and the mean"
    hi = next(line for line in table.splitlines() if line.startswith("| hi "))
    values = [float(v) for v in hi.strip("| ").split("|")[1:]]
    expected_mean = sum(r.f1 for r in results if r.train_langs == ["hi"]) / 40
    assert abs(values[-1] - expected_mean) < 1e-4


def test_curves_are_drawn_against_each_source_of_their_reference(tmp_path):
    results = [result("matrix", (src,), "hi", f1) for src, f1 in (("en", 0.4), ("bn", 0.6))]
    results += [result("few-shot", ("hi",), "hi", f1, size=n, reference="matrix")
                for n, f1 in ((100, 0.3), (200, 0.5), (400, 0.7))]  # fmt: skip
    assert plot_few_shot(results, tmp_path / "few_shot.png").stat().st_size > 0
    text = tables(results)
    assert "few-shot hi passes matrix en→hi (0.4000) at about n = 141" in text
    assert "few-shot hi passes matrix bn→hi (0.6000) at about n = 283" in text
