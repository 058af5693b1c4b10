"""report.html of real runs: one self-contained file per run (every head, a table run), its
numbers those of metrics.json, images that decode; the page comparing runs; the evidence a run
keeps for it (permutation importance against a model whose answer is known, per-row losses);
`kerasact report` on the command line."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
from matplotlib import image as mpimg
from sklearn.metrics import log_loss

import kerasact
from kerasact import report
from kerasact.cli.main import main as kerasact_command
from kerasact.training import evidence

HEADS = ("regression", "binary", "multiclass", "multilabel", "table")


class Page(HTMLParser):
    """What a page holds: image sources, scripts' and links' external references, tagged metrics."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.images, self.external, self.metrics, self.links = [], [], {}, []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        found = dict(attrs)
        if tag == "img":
            self.images.append(found.get("src", ""))
        if tag in ("script", "link", "iframe") and (found.get("src") or found.get("href")):
            self.external.append(found.get("src") or found.get("href"))
        if tag == "a" and found.get("href", "").endswith(".html"):
            self.links.append(found["href"])
        if "data-metric" in found:
            self.metrics[found["data-metric"]] = float(found["data-value"])


def _page(run_dir: Path) -> Page:
    return Page((run_dir / report.REPORT_FILE).read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", HEADS)
def test_every_run_leaves_one_self_contained_page(report_runs, kind):
    page = _page(report_runs[kind])
    text = (report_runs[kind] / report.REPORT_FILE).read_text(encoding="utf-8")
    assert page.external == [] and not re.search(r"(src|href)=\"(https?:)?//", text)  # nothing fetched
    assert len(page.images) >= 2, "learning curves and at least one error figure"
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        pixels = mpimg.imread(io.BytesIO(base64.b64decode(src.split(",", 1)[1])), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100


@pytest.mark.parametrize("kind", HEADS)
def test_the_numbers_on_the_page_are_metrics_json(report_runs, kind):
    run = json.loads((report_runs[kind] / "metrics.json").read_text())
    shown = _page(report_runs[kind]).metrics
    expected = {f"{part}.{name}": value for part in ("test", "validation") for name, value in run[part].items()}
    expected |= {f"n_samples.{k}": v for k, v in run["n_samples"].items()}
    assert shown == pytest.approx(expected, rel=0, abs=0)


@pytest.mark.parametrize("kind", HEADS)
def test_the_page_has_each_section_a_user_reads(report_runs, kind):
    text = (report_runs[kind] / report.REPORT_FILE).read_text(encoding="utf-8")
    for section in ("result", "data", "errors", "importance", "health", "model"):
        assert f'<section id="{section}">' in text
    figures = {"regression": ("predicted vs true", "residuals"), "binary": ("confusion matrix", "reliability"),
               "multiclass": ("confusion matrix", "roc and precision recall", "reliability"),
               "multilabel": ("roc and precision recall", "reliability"), "table": ("confusion matrix", "reliability")}
    for caption in figures[kind]:
        assert f'alt="{caption}"' in text
    assert "highest loss" in text and "kerasact predict" in text


def test_a_table_run_ranks_its_raw_columns_and_lists_its_schema(report_runs):
    run = json.loads((report_runs["table"] / "metrics.json").read_text())
    ranked = [c["column"] for c in run["evidence"]["importance"]["columns"]]
    names = sorted(c["name"] for c in run["schema"]["columns"] if c["kind"] != "dropped")
    assert sorted(ranked) == names and "Dose (mg/kg)" in names  # the table's names, not Keras-safe ones
    assert all(sorted(row["values"]) == names for row in run["evidence"]["worst_rows"])
    assert run["schema"]["rows"] == run["n_samples"]["train"]  # read from the training rows: the share's base
    text = (report_runs["table"] / report.REPORT_FILE).read_text(encoding="utf-8")
    for column in run["schema"]["columns"]:
        assert f"<td>{column['name']}</td><td>{column['kind']}</td><td>{column['why']}</td>" in text


def test_permutation_importance_finds_the_one_column_a_known_model_reads():
    """Oracle: y = 2·x0 exactly; shuffling x1 cannot change a prediction, shuffling x0 destroys R²."""
    model = kerasact.build_model("regression", 2, hidden=[])
    dense = next(layer for layer in model.layers if layer.weights)
    dense.set_weights([np.array([[2.0], [0.0]], "float32"), np.zeros(1, "float32")])
    X = np.random.default_rng(0).normal(size=(300, 2)).astype("float32")
    T = 2.0 * X[:, :1].astype(np.float64)
    found = evidence.importance(model, X, T, kerasact.head_of(model), seed=0)
    by_name = {c["column"]: c for c in found["columns"]}
    assert found["metric"] == "r2" and [c["column"] for c in found["columns"]] == ["feature 0", "feature 1"]
    assert by_name["feature 1"]["mean"] == 0.0 and by_name["feature 1"]["std"] == 0.0
    assert by_name["feature 0"]["mean"] > 1.5  # R² falls from 1 to about -1 when x0 is shuffled


def test_row_losses_are_scikit_learns_per_row_log_loss():
    rng = np.random.default_rng(0)
    P = rng.dirichlet([1, 1, 1], size=20)
    T = np.eye(3)[rng.integers(0, 3, 20)]
    losses = evidence.row_losses(T, P, "categorical")
    expected = [log_loss(T[i:i + 1].argmax(1), P[i:i + 1], labels=[0, 1, 2]) for i in range(20)]
    assert losses == pytest.approx(expected, rel=1e-9)
    b = rng.uniform(0.01, 0.99, size=(20, 1))
    t = rng.integers(0, 2, size=(20, 1)).astype(float)
    assert evidence.row_losses(t, b, "binary")[:, None] == pytest.approx(
        -(t * np.log(b) + (1 - t) * np.log(1 - b)), rel=1e-9)


def test_the_worst_rows_are_listed_highest_loss_first(report_runs):
    run = json.loads((report_runs["multiclass"] / "metrics.json").read_text())
    kept = np.load(report_runs["multiclass"] / report.OUTPUTS_FILE)
    losses = evidence.row_losses(kept["truth"], kept["predicted"], "categorical")
    worst = run["evidence"]["worst_rows"]
    assert [w["loss"] for w in worst] == pytest.approx(sorted(losses, reverse=True)[:evidence.WORST])
    assert len({w["row"] for w in worst}) == evidence.WORST


def test_a_worst_row_is_the_row_of_the_data_it_names(report_runs):
    """Oracle: each listed row's values are those of the table's row at that place, as given."""
    frame = report_runs["table_frame"]
    run = json.loads((report_runs["table"] / "metrics.json").read_text())
    for worst in run["evidence"]["worst_rows"]:
        given = frame.iloc[worst["row"]]
        assert worst["truth"] == given["outcome"]
        for column, value in worst["values"].items():
            expected = given[column]
            if pd.isna(expected):
                assert value is None
            elif isinstance(expected, str):
                assert value == expected
            else:
                assert value == pytest.approx(expected, rel=1e-6)


def test_the_log_directory_page_compares_every_run_and_marks_the_best(report_runs):
    page_path = report.compare(report_runs["log_dir"])
    text = page_path.read_text(encoding="utf-8")
    page = Page(text)
    runs = report.find_runs(report_runs["log_dir"])
    assert len(runs) == len(HEADS)
    links = [unquote(link.removeprefix("./")) for link in page.links]
    assert sorted(links) == sorted((p / report.REPORT_FILE).relative_to(report_runs["log_dir"]).as_posix()
                                   for p, _ in runs)
    for link in links:
        assert (report_runs["log_dir"] / link).is_file()
    for path, run in runs:
        name = path.relative_to(report_runs["log_dir"]).as_posix()
        for metric, value in run["test"].items():
            if f"{name}:test.{metric}" in page.metrics:
                assert page.metrics[f"{name}:test.{metric}"] == value
    assert text.count("<tr class=best>") == 0  # each run is alone in its recipe: nobody's best


def test_the_best_of_rival_runs_is_marked(report_runs, tmp_path):
    import shutil

    for name, gain in (("a", 0.0), ("b", 0.01)):
        shutil.copytree(report_runs["binary"], tmp_path / "logs" / "binary" / name)
        path = tmp_path / "logs" / "binary" / name / "metrics.json"
        run = json.loads(path.read_text())
        run["test"]["accuracy"] = min(run["test"]["accuracy"] + gain, 1.0) if gain else run["test"]["accuracy"] - 0.01
        path.write_text(json.dumps(run))
    text = report.compare(tmp_path / "logs").read_text(encoding="utf-8")
    (best,) = re.findall(r"<tr class=best>(.*?)</tr>", text)
    assert "binary/b" in best and "binary/a" not in best


def test_a_search_leaves_a_leaderboard_of_its_trials(study_dir):
    page = Page((study_dir / report.REPORT_FILE).read_text(encoding="utf-8"))
    trials = report.find_runs(study_dir)
    assert len(trials) == 2 and len(page.links) == 2
    assert all((study_dir / unquote(link.removeprefix("./"))).is_file() for link in page.links)


def test_kerasact_report_rebuilds_a_run_page(report_runs, capsys):
    page = report_runs["binary"] / report.REPORT_FILE
    page.unlink()
    assert kerasact_command(["report", str(report_runs["binary"])]) == 0
    assert capsys.readouterr().out.strip() == str(page) and page.is_file()


@pytest.mark.parametrize("make", [lambda tmp: tmp / "absent", lambda tmp: tmp])
def test_kerasact_report_on_a_folder_without_runs_is_one_line(tmp_path, capsys, make):
    assert kerasact_command(["report", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("kerasact: error: ")


def test_a_damaged_metrics_json_is_one_clear_error(tmp_path):
    (tmp_path / "metrics.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        report.build(tmp_path)


def test_kerasact_train_puts_the_baselines_and_the_boosting_verdict_on_the_page(tmp_path, capsys, make_table):
    make_table(np.random.default_rng(3)).to_csv(tmp_path / "trial.csv", index=False)
    status = kerasact_command(["train", str(tmp_path / "trial.csv"), "--target", "outcome", "--epochs", "4",
                               "--log-dir", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert status == 0
    page_path = Path(out.split("report:")[1].split()[0])
    baselines = json.loads((page_path.parent / report.BASELINES_FILE).read_text())
    assert baselines["names"] == ["LogisticRegression", "HistGradientBoosting"]
    text = page_path.read_text(encoding="utf-8")
    mine, _, boosted = dict(baselines["rows"])["accuracy"]
    said = (f"level with HistGradientBoosting ({boosted:.4f})" if round(mine, 4) == round(boosted, 4) else
            f"{'better' if mine > boosted else 'worse'} than HistGradientBoosting by {abs(mine - boosted):.4f}")
    assert f"Test accuracy {mine:.4f}: " in text and said in text
    assert Page(text).metrics["test.accuracy"] == mine
    epochs = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert 1 <= len(epochs) <= 4 and not any(line.startswith("Epoch ") for line in out.splitlines())


def _verdict(model, constant, linear, metric="accuracy"):
    return {"verdict": {"metric": metric, "model": model, "constant": constant, "linear": linear,
                        "linear_model": "LogisticRegression"}}


@pytest.mark.parametrize(("run", "baselines", "said", "bad"), [
    (_verdict(0.9, 0.5, 0.9), None, "level with LogisticRegression", False),
    (_verdict(0.8, 0.5, 0.9), None, "worse than LogisticRegression by 0.1000 (0.9000)", True),
    (_verdict(float("nan"), 0.5, 0.9, "r2"), None, "Test r2 is undefined", True),
    (_verdict(0.9, 0.5, 0.8), {"names": ["LogisticRegression", "HistGradientBoosting"],
                               "rows": [["accuracy", [0.95, 0.9, 0.95]]]},
     "Test accuracy 0.9500: level with HistGradientBoosting (0.9500)", False),
    (_verdict(0.9, 0.5, 0.8), {"names": ["LogisticRegression", "HistGradientBoosting"],
                               "rows": [["accuracy", [0.91, 0.9, 0.95]]]},
     "worse than HistGradientBoosting by 0.0400 (0.9500)", True),
])
def test_the_verdict_sentence_says_ties_and_undefined_scores_plainly(run, baselines, said, bad):
    from kerasact.report.run_page import _verdict_line

    line, is_bad = _verdict_line(run, baselines)
    assert said in line and is_bad == bad and "than level" not in line and "nan" not in line


def test_leaderboard_links_survive_folder_names_that_are_not_urls(report_runs, tmp_path):
    import shutil

    odd = tmp_path / "logs" / "trial #1 ? <x>" / "run"
    shutil.copytree(report_runs["binary"], odd)
    text = report.compare(tmp_path / "logs").read_text(encoding="utf-8")
    (link,) = Page(text).links
    assert link.startswith("./") and "#" not in link and "?" not in link
    assert (tmp_path / "logs" / unquote(link.removeprefix("./"))).is_file()


@pytest.mark.parametrize(("refit", "says"), [
    ({"rows": 150, "epochs": 256}, "model.keras is the refit model: it learned again from all 150 rows"),
    ({"rows": 127, "epochs": 30, "kept": "first"}, "model.keras is the first fit"),  # a run of the older refit
])
def test_the_model_section_says_which_fit_model_keras_is(refit, says, tmp_path):
    from kerasact.report import run_page

    run = {"hparams": {}, "refit": refit, "epochs_run": 30, "train_seconds": 1.0, "seed": 0, "versions": {}}
    assert says in run_page._model(run, tmp_path)
