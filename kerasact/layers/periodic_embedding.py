"""`PeriodicEmbedding`: RealMLP's PBLD numeric embedding (periodic, bias, linear, densenet;
Holzmüller et al., "Better by Default", NeurIPS 2024, Sec. 3 and Table B.1: `num_emb_type='pbld'`,
`plr_sigma=0.1`, `plr_hidden_1=16`, `plr_hidden_2=4`).

Ported from pytabkit `pytabkit/models/nn_models/nn.py`: `PLREmbeddingsFactory._fit` (the inits,
with `plr_use_cos_bias=True`) and `PLREmbeddingsLayerCosBias.forward_cont` (the forward pass);
`pytabkit/models/nn_models/models.py` `NNFactory._create_transform` maps 'pbld' to those settings
(`plr_act_name='linear'`, `plr_use_densenet=True`).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import keras
import numpy as np

from kerasact.layers._checks import last_axis, option, positive_float, positive_int

# pytabkit's plr_act_name: 'linear' is PBLD (RealMLP-TD), 'relu' is PBLRD.
ACTIVATIONS = ("linear", "relu")


def periodic_embedding_numpy(x: np.ndarray, frequencies: np.ndarray, phases: np.ndarray, kernel: np.ndarray,
                             bias: np.ndarray, activation: str = "linear") -> np.ndarray:
    """The numpy twin of `PeriodicEmbedding.call`, in float64, from the layer's four weights.

    Example:
        >>> d, f, m = 2, 16, 3
        >>> out = periodic_embedding_numpy(np.zeros((5, d)), np.zeros((d, f)), np.zeros((d, f)),
        ...                                np.zeros((d, f, m)), np.ones((d, m)))
        >>> out.shape, out[0].tolist()  # [embedding of feature 0, of feature 1, the numbers]
        ((5, 8), [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0])
    """
    x = np.asarray(x, dtype=np.float64)
    hidden = np.cos(2.0 * np.pi * x[:, :, None] * frequencies + phases)  # (n, d, f)
    out = np.einsum("ndf,dfm->ndm", hidden, kernel) + bias  # (n, d, m)
    if activation == "relu":
        out = np.maximum(out, 0.0)
    return np.concatenate([out.reshape(x.shape[0], -1), x], axis=-1)


@keras.saving.register_keras_serializable(package="kerasact")
class PeriodicEmbedding(keras.layers.Layer):
    """Per-feature periodic embedding with a per-feature linear map, the number itself kept (PBLD).

    For each feature j of x (m = embedding_dim − 1 learned outputs per feature):
    `h_j = cos(2π·w_j·x_j + b_j)` (n_frequencies values), `e_j = act(h_j · W_j + c_j)` (m values),
    output `[e_1, …, e_d, x_1, …, x_d]`: pytabkit concatenates the embeddings feature by feature, then
    all raw numbers at the end (`torch.cat([x, x_orig], dim=-1)`), and so does this layer.

    Inits (`PLREmbeddingsFactory._fit`): `frequencies` w ~ N(0, sigma²) (the 2π is in the forward
    pass); `phases` b ~ U(−π, π); `kernel` W and `bias` c ~ U(−1/√n_frequencies, 1/√n_frequencies)
    (nn.Linear's). RealMLP-TD trains all four with learning-rate factor 0.1 (`plr_lr_factor`) and
    weight-decay factor 1.

    Input shape: (n, d) float (finite: put `RobustScale` first). Output shape: (n, d·embedding_dim).

    Args:
        n_frequencies: periodic features per number (`plr_hidden_1`, 16).
        sigma: standard deviation of the frequencies' init (`plr_sigma`, 0.1).
        embedding_dim: outputs per number, the number itself included (`plr_hidden_2`, 4).
        activation: after the linear map: 'linear' (PBLD, RealMLP-TD) or 'relu' (PBLRD).
        seed: seeds the four initializers, `seed` to `seed + 3` (None: Keras's global seed).
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`).

    Example:
        >>> layer = PeriodicEmbedding()
        >>> tuple(layer(np.zeros((5, 3), "float32")).shape)
        (5, 12)
    """

    def __init__(self, n_frequencies: int = 16, sigma: float = 0.1, embedding_dim: int = 4,
                 activation: Literal["linear", "relu"] = "linear", seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed  # seeds the four initializers (each its own offset), for repeatable models
        self.n_frequencies = positive_int("n_frequencies", n_frequencies, "RealMLP-TD uses n_frequencies=16")
        self.sigma = positive_float("sigma", sigma, "RealMLP-TD uses sigma=0.1")
        self.embedding_dim = positive_int("embedding_dim", embedding_dim,
                                          "count the number itself too: RealMLP-TD uses embedding_dim=4", minimum=2)
        self.activation = option("activation", activation, ACTIVATIONS, "RealMLP-TD (PBLD) uses 'linear'")

    def build(self, input_shape: Any) -> None:
        d, f, m = last_axis("PeriodicEmbedding", input_shape), self.n_frequencies, self.embedding_dim - 1
        limit = 1.0 / math.sqrt(f)
        seed = (lambda k: None if self.seed is None else self.seed + k)
        self.frequencies = self.add_weight(name="frequencies", shape=(d, f),
                                           initializer=keras.initializers.RandomNormal(stddev=self.sigma, seed=seed(0)))
        self.phases = self.add_weight(name="phases", shape=(d, f),
                                      initializer=keras.initializers.RandomUniform(-math.pi, math.pi, seed=seed(1)))
        self.kernel = self.add_weight(name="kernel", shape=(d, f, m),
                                      initializer=keras.initializers.RandomUniform(-limit, limit, seed=seed(2)))
        self.bias = self.add_weight(name="bias", shape=(d, m),
                                    initializer=keras.initializers.RandomUniform(-limit, limit, seed=seed(3)))

    def call(self, x: Any) -> Any:
        ops = keras.ops
        x = ops.cast(x, self.compute_dtype)
        hidden = ops.cos(2.0 * math.pi * ops.expand_dims(x, -1) * self.frequencies + self.phases)
        out = ops.einsum("ndf,dfm->ndm", hidden, self.kernel) + self.bias
        if self.activation == "relu":
            out = ops.relu(out)
        out = ops.reshape(out, (-1, self.kernel.shape[0] * self.kernel.shape[2]))
        return ops.concatenate([out, x], axis=-1)

    def numpy_call(self, x: np.ndarray) -> np.ndarray:
        """`self(x)` in numpy (float64), from this layer's weights.

        Example:
            >>> layer = PeriodicEmbedding(); layer.build((None, 2))
            >>> layer.numpy_call(np.zeros((1, 2))).shape
            (1, 8)
        """
        weights = (self.frequencies, self.phases, self.kernel, self.bias)
        return periodic_embedding_numpy(x, *(w.numpy() for w in weights), self.activation)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*tuple(input_shape)[:-1], last_axis("PeriodicEmbedding", input_shape) * self.embedding_dim)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_frequencies": self.n_frequencies, "sigma": self.sigma,
                "embedding_dim": self.embedding_dim, "activation": self.activation, "seed": self.seed}
