"""Hyperparameter search over the templates: a space per problem type (or yours, in code or
TOML), trials driven by Optuna, one TensorBoard run and HParams row per trial, resumable and
parallel (`kerasact.tuning.search`, also `kerasact.search` at the top level)."""

from kerasact.tuning.space import DEFAULTS, Dim, Space, default_space
from kerasact.tuning.study import SearchResult, search, trials_table
from kerasact.tuning.trials import trial_name

__all__ = ["DEFAULTS", "Dim", "SearchResult", "Space", "default_space", "search", "trial_name", "trials_table"]
