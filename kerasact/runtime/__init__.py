"""How a model runs: measured execution settings (`execution`), the seeded `tf.data` input
pipeline (`pipeline`), the cached serving function (`serving`), `predict`, and seeding."""

from kerasact.runtime import execution, pipeline, serving
from kerasact.runtime.execution import Execution
from kerasact.runtime.prediction import outputs, predict
from kerasact.runtime.seeding import seed_everything

__all__ = ["Execution", "execution", "outputs", "pipeline", "predict", "seed_everything", "serving"]
