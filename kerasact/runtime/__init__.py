"""How a model runs: measured execution settings (`execution`, from the CPU's facts in `cpu`),
the seeded `tf.data` input pipeline (`pipeline`), the cached serving function (`serving`),
`predict`, the frozen numpy forward pass for one-row serving (`serve`, `frozen`), seeding, and
the multi-worker cluster (`distribute`, `tf_config`; `_keras_compat` holds the keras#20585 workaround)."""

from kerasact.runtime import cpu, distribute, execution, frozen, pipeline, serving, tf_config
from kerasact.runtime.distribute import ClusterError
from kerasact.runtime.execution import Execution
from kerasact.runtime.frozen import Predictor, serve
from kerasact.runtime.prediction import outputs, predict
from kerasact.runtime.seeding import seed_everything
from kerasact.runtime.tf_config import multi_worker_strategy

__all__ = ["ClusterError", "Execution", "Predictor", "cpu", "distribute", "execution", "frozen",
           "multi_worker_strategy", "outputs", "pipeline", "predict", "seed_everything", "serve", "serving",
           "tf_config"]
