"""What is predicted: the problem-type table, reading a problem off `y`, and reading one off
a built model.

`HEADS` is the single source of truth for a head's output units, activation, losses and
metrics; `infer_problem` reads a problem type from targets; `head_of` and the rest of
`reading` are the one reader of built models that every other part asks.
"""

from kerasact.problems.heads import HEADS, LOSS_ALIASES, PROBLEM_ALIASES, Head, LabelFormat, LossOption
from kerasact.problems.heads import get as get_head
from kerasact.problems.infer import MAX_FLOAT_CLASSES, Target, infer_problem
from kerasact.problems.reading import (
                                       ModelHead,
                                       activation_of,
                                       compiled_loss,
                                       functional_view,
                                       head_of,
                                       loss_config,
                                       loss_key,
                                       output_activation,
                                       output_units,
                                       require_built,
                                       require_compiled,
)

__all__ = ["HEADS", "LOSS_ALIASES", "MAX_FLOAT_CLASSES", "PROBLEM_ALIASES", "Head", "LabelFormat", "LossOption",
           "ModelHead", "Target", "activation_of", "compiled_loss", "functional_view", "get_head", "head_of",
           "infer_problem", "loss_config", "loss_key", "output_activation", "output_units", "require_built",
           "require_compiled"]
