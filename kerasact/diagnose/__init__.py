"""Finding what is wrong with a model before, during and after it trains: lint rules (`lint`,
with a `LintWarning` from `build_model`), linear collapse (`plan_fold`, `fold_linear`), the
gradient check against central differences (`check_gradients`), and the training diagnostics
(`Diagnostics`: dead and saturated units, gradient flow; `probe`; `HEALTH_RULES`, whose findings
`train` issues as `TrainingWarning`s)."""

from kerasact.diagnose.advice import RULES as HEALTH_RULES
from kerasact.diagnose.collapse import FoldPlan, LinearRun, fold_linear, plan_fold
from kerasact.diagnose.gradcheck import GradientReport, check_gradients, relative_error
from kerasact.diagnose.health import Probe, probe
from kerasact.diagnose.linting import RULES as LINT_RULES
from kerasact.diagnose.linting import Finding, LintWarning, lint
from kerasact.diagnose.monitor import Diagnostics, TrainingWarning

__all__ = ["HEALTH_RULES", "LINT_RULES", "Diagnostics", "Finding", "FoldPlan", "GradientReport", "LinearRun",
           "LintWarning", "Probe", "TrainingWarning", "check_gradients", "fold_linear", "lint", "plan_fold", "probe",
           "relative_error"]
