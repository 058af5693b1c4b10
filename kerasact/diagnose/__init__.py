"""Finding what is wrong with a model before and after it trains: lint rules (`lint`, with a
`LintWarning` from `build_model`), linear collapse (`plan_fold`, `fold_linear`) and the
gradient check against central differences (`check_gradients`)."""

from kerasact.diagnose.collapse import FoldPlan, LinearRun, fold_linear, plan_fold
from kerasact.diagnose.gradcheck import GradientReport, check_gradients, relative_error
from kerasact.diagnose.linting import RULES as LINT_RULES
from kerasact.diagnose.linting import Finding, LintWarning, lint

__all__ = ["LINT_RULES", "Finding", "FoldPlan", "GradientReport", "LinearRun", "LintWarning", "check_gradients",
           "fold_linear", "lint", "plan_fold", "relative_error"]
