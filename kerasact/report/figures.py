"""A run page's figures from the run's files: learning curves (the kept epoch marked), the test
rows' error figures by label family, training health. Undrawn: zero-argument callables by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from kerasact import plots

OUTPUTS_FILE = "test_outputs.npz"  # the test rows' targets and outputs, in the outputs' layout (`training.evidence`)


def makers(run: dict[str, Any], outputs: dict[str, np.ndarray] | None) -> dict[str, Callable[[], Any]]:
    """The page's figures, undrawn, by what the run kept."""
    history = run.get("history") or {"loss": []}
    makers: dict[str, Callable[[], Any]] = {
        "learning_curves": partial(plots.learning_curves, history, chosen=run.get("kept_epoch"))}
    evidence = run.get("evidence") or {}
    if outputs is not None:
        T, P, family, classes = outputs["truth"], outputs["predicted"], evidence.get("family"), evidence.get("classes")
        if family == "values":
            names = [str(run["target"])] if run.get("target") and T.shape[1] == 1 else None  # else "output j"
            makers |= {"predicted_vs_true": partial(plots.parity, T, P, names=names),
                       "residuals": partial(plots.residuals, T, P, names=names)}
        elif family == "categorical":
            names = classes or [str(j) for j in range(T.shape[1])]
            makers |= {"confusion_matrix": partial(plots.confusion_matrix, np.asarray(names)[T.argmax(1)],
                                                   np.asarray(names)[P.argmax(1)], labels=names),
                       "roc_and_precision_recall": partial(plots.roc_pr, T, P, names=names),
                       "reliability": partial(plots.reliability, T, P, top_label=True)}
        elif family == "binary":
            one = T.shape[1] == 1 and classes is not None and len(classes) == 2
            if one:
                makers["confusion_matrix"] = partial(plots.confusion_matrix, np.asarray(classes)[(T[:, 0] > 0.5) * 1],
                                                     np.asarray(classes)[(P[:, 0] > 0.5) * 1], labels=classes)
            names = [f"P({classes[1]})"] if one else (classes if classes and len(classes) == T.shape[1] else None)
            makers |= {"roc_and_precision_recall": partial(plots.roc_pr, T, P, names=names),
                       "reliability": partial(plots.reliability, T, P)}
    report = run.get("diagnostics") or {}
    if report.get("gradient_norms"):
        stalled = {name: row.get("stalled_fraction") for name, row in (report.get("layers") or {}).items()}
        makers["training_health"] = partial(plots.training_health, report["gradient_norms"], stalled)
    return makers


def outputs(run_dir: Path) -> dict[str, np.ndarray] | None:
    path = Path(run_dir) / OUTPUTS_FILE
    if not path.is_file():
        return None
    with np.load(path) as kept:
        return {"truth": kept["truth"], "predicted": kept["predicted"]}
