"""The model itself: `ModelSpec` (validated once, TOML/JSON), the builders (`dense_stack`,
`build_model`, `build_from_spec`), in-model preprocessing layers, optimizers by name, and
atomic saving with safe loading."""

from kerasact.model.build import build_from_spec, build_model, dense_stack
from kerasact.model.optimizers import OPTIMIZERS
from kerasact.model.saving import load_model, save_model
from kerasact.model.spec import HiddenLayer, ModelSpec
from kerasact.model.tabular import build_tabular_model

__all__ = ["OPTIMIZERS", "HiddenLayer", "ModelSpec", "build_from_spec", "build_model", "build_tabular_model",
           "dense_stack",
           "load_model", "save_model"]
