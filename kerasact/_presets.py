"""Named presets: ONE table (light: no TensorFlow, so the command line lists them), each row the
`ModelSpec` defaults and the run's `train` defaults of a recipe. The table model, `kerasact train`,
the estimators and search read it; a user's own options always win over a preset's.

`plain` is the stack kerasact has always built (64→32 ReLU, Adam at 1e-3, early stopping); a
streamed CSV trains it.
`realmlp` is RealMLP-TD (Holzmüller, Grinsztajn and Steinwart, "Better by Default: Strong
Pre-Tuned MLPs and Boosted Trees on Tabular Data", NeurIPS 2024), ported from pytabkit's
`pytabkit/models/sklearn/default_params.py::DefaultParams.RealMLP_TD_CLASS` / `RealMLP_TD_REG`
(Table B.1 of the paper): three 256-wide layers in NTK parametrisation with a parametric SELU
(classes) or Mish (regression), numbers robust-scaled, smooth-clipped and PBLD-embedded, a
learnable front scale, dropout 0.15 and weight decay 0.02 on the flat-then-cosine schedule,
Adam with β₂ = 0.95 on the coslog₄ learning-rate schedule, batch 256 for 256 epochs with the
best validation epoch restored, label smoothing 0.1 for classes (with their probabilities
temperature-scaled on the validation rows), standardised and clipped regression targets. It is the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kerasact import _errors

# The table model's recipe when none is named. realmlp by the numbers of benchmarks/tables_suite.py
# (split seed 0, all 20 development tables, error ÷ HistGradientBoosting's, geometric mean):
# realmlp 0.90, plain 1.06; classes 0.85× plain's error, regression within 1% of it.
DEFAULT_PRESET = "realmlp"
STREAM_PRESET = "plain"  # a streamed CSV's recipe: its model is built on a sample and trained in chunks


@dataclass(frozen=True)
class Preset:
    """One recipe: `ModelSpec` defaults (for every head, then by kind of head) and `train` defaults.

    Attributes:
        name: the preset's key.
        description: one line for help texts.
        spec: `ModelSpec` fields for every problem type.
        classes: fields added for class heads (binary, multiclass, multilabel).
        regression: fields added for the regression head.
        run: `train` arguments (`epochs`, `batch_size`, `patience`, `restore_best`).
        refit: problem type -> the most rows of a table whose model `train_table` refits on every
            row by default (`train(refit=True)`); a problem type not named is not refit.
    """

    name: str
    description: str
    spec: Mapping[str, Any] = field(default_factory=dict)
    classes: Mapping[str, Any] = field(default_factory=dict)
    regression: Mapping[str, Any] = field(default_factory=dict)
    run: Mapping[str, Any] = field(default_factory=dict)
    refit: Mapping[str, int] = field(default_factory=dict)

    def spec_defaults(self, problem: str) -> dict[str, Any]:
        """The `ModelSpec` defaults of this preset for a problem type (a `kerasact.HEADS` key).

        Example:
            >>> PRESETS["realmlp"].spec_defaults("regression")["activation"]
            'mish'
        """
        return {**self.spec, **(self.regression if problem == "regression" else self.classes)}


PRESETS: dict[str, Preset] = {
    "plain": Preset(
        "plain", "the plain stack: 64→32 ReLU, z-scored numbers, Adam 1e-3, early stopping",
        regression={"normalize_target": True},
    ),
    "realmlp": Preset(
        "realmlp", "RealMLP-TD (NeurIPS 2024): 3×256 NTK, robust-scaled and PBLD-embedded numbers, coslog4",
        spec={"hidden": (256, 256, 256), "numeric_encoding": "robust", "numeric_embedding": "periodic",
              "categorical_encoding": "compact",
              "front_scale": True, "parametrization": "ntk", "parametric_activation": True, "dropout": 0.15,
              "weight_decay": 0.02, "beta_2": 0.95, "lr_schedule": "coslog4", "regularization_schedule": "flat_cos"},
        classes={"activation": "selu", "learning_rate": 0.04, "label_smoothing": 0.1, "temperature_scaling": True},
        regression={"activation": "mish", "learning_rate": 0.2, "normalize_target": True, "clip_output": True},
        run={"epochs": 256, "batch_size": 256, "patience": None},
        # benchmarks/tables_suite.py, split seeds 0-2 (kerasact/training/refit.py has the numbers): the
        # class tables of up to 1,615 training rows gained (breast_cancer lost one test row), those of
        # 3,700-4,500 rows did not (Car, stackoverflow worse); every regression table but concrete lost.
        # Above 5,000 rows it is not measured, and it would double the time of the table the 90 s target
        # is set on.
        refit=dict.fromkeys(("binary", "multiclass", "multilabel"), 2_000),
    ),
}


def get(preset: str | Preset) -> Preset:
    """Normalise a preset identifier to its row, or say which are valid.

    Example:
        >>> get("RealMLP").name
        'realmlp'
    """
    if not isinstance(preset, (str, Preset)):
        raise _errors.invalid("preset", preset, f"a preset name, one of {sorted(PRESETS)}", kind=TypeError)
    return preset if isinstance(preset, Preset) else PRESETS[_errors.check_choice("preset", preset.strip().lower(),
                                                                                  PRESETS)]
