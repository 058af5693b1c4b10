"""The four ways of training the same MLP that `bench.py` compares.

Every contender trains the same network (inputs → ReLU hidden layers → softmax over classes)
with Adam (learning rate 1e-3), batch size and epochs given, no weight penalty, shuffling
every epoch, on the same float32 arrays; they differ only in the library and how it is run.

* `Kerasact`: `kerasact.build_model` (its compile carries the execution settings), then what
  `kerasact.train` runs once wired: `model.fit(**pipeline.fit_inputs(model, X, y, ...))`,
  which first re-decides the settings for the batch and data size; predictions through
  `kerasact.predict` (input validation + the cached serving function).
* `Keras`: the obvious hand-written Keras: `Sequential`, `compile("adam", ...)` with defaults,
  `fit(X, y, batch_size=...)`, `predict(X)`.
* `Sklearn`: `MLPClassifier(solver="adam", alpha=0)`, one `partial_fit` per epoch.
* `Torch`: a plain PyTorch loop (randperm, index, forward, backward, step).
"""

from __future__ import annotations

import numpy as np


class Kerasact:
    name = "kerasact"

    def __init__(self, d: int, hidden: tuple, classes: int, seed: int, **switches) -> None:
        import kerasact

        self.model = kerasact.build_model("multiclass", d, n_classes=classes, hidden=list(hidden), seed=seed,
                                          **switches)
        self.seed, self.data = seed, None

    def fit(self, X, y, epochs: int, batch_size: int, callbacks=()) -> None:
        from kerasact.runtime import pipeline

        if self.data is None or self.data[0] is not X or self.data[1] != batch_size:
            self.data = (X, batch_size, pipeline.fit_inputs(self.model, X, y, batch_size=batch_size, seed=self.seed))
        self.model.fit(**self.data[2], epochs=epochs, verbose=0, callbacks=list(callbacks))

    def proba(self, X) -> np.ndarray:
        import kerasact

        return kerasact.predict(self.model, X)  # the public path: validation + cached serving function


class KerasactF32(Kerasact):
    name = "kerasact float32"

    def __init__(self, d: int, hidden: tuple, classes: int, seed: int) -> None:
        super().__init__(d, hidden, classes, seed, mixed_precision=False)


class KerasactLossOnly(Kerasact):
    """Not a contender: kerasact without the per-step training metrics, to show their cost."""

    name = "(kerasact, loss only: no train metrics)"

    def __init__(self, d: int, hidden: tuple, classes: int, seed: int) -> None:
        from kerasact.runtime import execution

        super().__init__(d, hidden, classes, seed)
        execution.compile_model(self.model, optimizer=self.model.optimizer, loss=self.model.loss, metrics=[])


class Keras:
    name = "Keras defaults"

    def __init__(self, d: int, hidden: tuple, classes: int, seed: int) -> None:
        import keras

        keras.utils.set_random_seed(seed)
        self.model = keras.Sequential([keras.Input((d,)), *[keras.layers.Dense(h, activation="relu") for h in hidden],
                                       keras.layers.Dense(classes, activation="softmax")])
        self.model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    def fit(self, X, y, epochs: int, batch_size: int, callbacks=()) -> None:
        self.model.fit(X, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=list(callbacks))

    def proba(self, X) -> np.ndarray:
        return self.model.predict(X, verbose=0)


class Sklearn:
    name = "scikit-learn"

    def __init__(self, d: int, hidden: tuple, classes: int, seed: int) -> None:
        from sklearn.neural_network import MLPClassifier

        self.model = MLPClassifier(tuple(hidden), solver="adam", alpha=0.0, learning_rate_init=1e-3,
                                   max_iter=1, shuffle=True, random_state=seed)
        self.classes = np.arange(classes)

    def fit(self, X, y, epochs: int, batch_size: int, callbacks=()) -> None:
        self.model.batch_size = batch_size
        for _ in range(epochs):
            self.model.partial_fit(X, y, classes=self.classes)

    def proba(self, X) -> np.ndarray:
        return self.model.predict_proba(X)


class Torch:
    name = "PyTorch loop"

    def __init__(self, d: int, hidden: tuple, classes: int, seed: int) -> None:
        import torch

        torch.manual_seed(seed)
        sizes = [d, *hidden]
        layers = [m for a, b in zip(sizes, sizes[1:]) for m in (torch.nn.Linear(a, b), torch.nn.ReLU())]
        self.torch, self.model = torch, torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-1], classes))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss = torch.nn.CrossEntropyLoss()
        self.gen = torch.Generator().manual_seed(seed)

    def fit(self, X, y, epochs: int, batch_size: int, callbacks=()) -> None:
        torch = self.torch
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
        self.model.train()
        for _ in range(epochs):
            order = torch.randperm(len(Xt), generator=self.gen)
            for i in range(0, len(Xt), batch_size):
                idx = order[i:i + batch_size]
                self.opt.zero_grad(set_to_none=True)
                self.loss(self.model(Xt[idx]), yt[idx]).backward()
                self.opt.step()

    def proba(self, X) -> np.ndarray:
        torch = self.torch
        self.model.eval()
        with torch.inference_mode():
            return torch.softmax(self.model(torch.from_numpy(X)), dim=1).numpy()


def available(include_torch: bool = True) -> list[type]:
    """The contenders that can run here (PyTorch only when installed)."""
    import importlib.util

    found = [Kerasact, Keras, Sklearn]
    return found + [Torch] if include_torch and importlib.util.find_spec("torch") else found
