"""ModelSpec: errors that teach, and a TOML/JSON round trip that builds the same model."""

import json

import numpy as np
import pytest

from kerasact import HEADS, OPTIMIZERS, ModelSpec, activations, build_from_spec, build_model
from kerasact.model.spec import _check_metric

# (kwargs, exception, message fragment): each bad argument names itself and what is valid.
BAD_ARGUMENTS = [
    (dict(problem="ranking"), ValueError, r"Unknown problem='ranking'.*'binary', 'multiclass'"),
    (dict(problem=3), TypeError, r"problem must be a str"),
    (dict(activation="relux"), ValueError, r"Unknown activation 'relux'.*relu"),
    (dict(hidden=[(8, "sigmoidd")]), ValueError, r"Unknown activation 'sigmoidd'"),
    (dict(optimizer="adamm"), ValueError, r"Unknown optimizer='adamm'.*'adam'.*'adamw'"),
    (dict(hidden=[0]), ValueError, r"hidden\[0\] width=0 is not valid: expected an int >= 1"),
    (dict(hidden=[16, -4]), ValueError, r"hidden\[1\] width=-4 is not valid: expected an int >= 1"),
    (dict(hidden=[2.5]), TypeError, r"hidden\[0\] width=2.5 \(float\) is not valid: expected an int"),
    (dict(hidden=[(8, "relu", 3)]), ValueError, r"hidden\[0\] must be a width or a \(width, activation\) pair"),
    (dict(hidden=64), TypeError, r"hidden must be a list"),
    (dict(hidden=[(1, "softmax")]), ValueError, r"softmax over 1 unit"),
    (dict(problem="multiclass"), ValueError, r"problem='multiclass' needs n_classes"),
    (dict(problem="multiclass", n_classes=1), ValueError, r"n_classes=1 is not valid: problem='multiclass' needs >= 2"),
    (dict(problem="binary", n_classes=3), ValueError, r"n_classes=3 is not valid.*needs exactly 2 classes.*multiclass"),
    (dict(problem="multilabel"), ValueError, r"problem='multilabel' needs n_classes"),
    (dict(problem="regression", n_outputs=0), ValueError, r"n_outputs=0 is not valid: .* needs >= 1 targets"),
    (dict(problem="multiclass", n_classes=3, n_outputs=4), ValueError, r"disagree"),
    (dict(n_classes="3", problem="multiclass"), TypeError, r"n_classes='3' \(str\) is not valid: expected an int"),
    (dict(input_dim=0), ValueError, r"input_dim=0 is not valid: expected an int >= 1"),
    (dict(input_dim=4.0), TypeError, r"input_dim=4.0 \(float\) is not valid: expected an int"),
    (dict(dropout=1.0), ValueError, r"dropout=1.0 is not valid: expected a finite number >= 0 and < 1"),
    (dict(dropout=-0.1), ValueError, r"dropout=-0.1 is not valid"),
    (dict(l2=-1e-3), ValueError, r"l2=-0.001 is not valid: expected a finite number >= 0"),
    (dict(learning_rate=0), ValueError, r"learning_rate=0 is not valid: expected a finite number > 0"),
    (dict(learning_rate=float("inf")), ValueError, r"learning_rate=inf is not valid: expected a finite number > 0"),
    (dict(learning_rate=float("nan")), ValueError, r"learning_rate=nan is not valid"),
    (dict(learning_rate="fast"), TypeError, r"learning_rate='fast' \(str\) is not valid: expected a number"),
    (dict(loss="categorical_crossentropy"), ValueError,
     r"loss='categorical_crossentropy' does not pair with problem='binary'.*binary_crossentropy"),
    (dict(problem="regression", loss="binary_crossentropy"), ValueError,
     r"does not pair with problem='regression'.*mean_squared_error"),
    (dict(problem="multiclass", n_classes=3, loss="binary_crossentropy"), ValueError,
     r"does not pair with problem='multiclass'"),
    (dict(problem="regression", logits=True), ValueError, r"logits=True applies to probability heads"),
    (dict(batch_norm="yes"), TypeError, r"batch_norm='yes' \(str\) is not valid: expected True or False"),
    (dict(normalize="yes"), TypeError, r"normalize='yes' \(str\) is not valid: expected True"),
    (dict(normalize=1), TypeError, r"normalize=1 \(int\) is not valid: expected True"),
    (dict(problem="regression", normalize_target=1), TypeError, r"normalize_target=1 \(int\) is not valid"),
    (dict(logits="no"), TypeError, r"logits='no' \(str\) is not valid: expected True or False"),
    (dict(metrics=["accuracyy"]), ValueError,
     r"Unknown metric 'accuracyy'.*in all: keras.metrics.*Did you mean 'accuracy'"),
    (dict(metrics="auc"), TypeError, r"metrics must be a list"),
    (dict(seed=-1), ValueError, r"seed=-1 is not valid: expected an int from 0 to 2147483647"),
    (dict(seed=2**63 - 1), ValueError, r"seed=9223372036854775807 is not valid: expected an int from 0 to"),
]


@pytest.mark.parametrize("kwargs,error,match", BAD_ARGUMENTS, ids=[str(k) for k, _, _ in BAD_ARGUMENTS])
def test_bad_arguments_raise_errors_that_teach(kwargs, error, match):
    args = dict(problem="binary", input_dim=4) | kwargs
    with pytest.raises(error, match=match):
        build_model(**args)
    with pytest.raises(error, match=match):
        ModelSpec(**args)


def test_error_options_come_from_the_tables():
    with pytest.raises(ValueError) as err:
        ModelSpec("nope", 3)
    assert all(name in str(err.value) for name in HEADS)
    with pytest.raises(ValueError) as err:
        ModelSpec("binary", 3, optimizer="nope")
    assert all(name in str(err.value) for name in OPTIMIZERS)
    with pytest.raises(ValueError) as err:  # too many to list in 300 characters: the closest, and where all are
        ModelSpec("binary", 3, activation="relux")
    message = str(err.value)
    assert len(message) <= 300 and f"{len(activations.names()) + len(activations.ALIASES)} in all" in message
    assert "kerasact.activations.names()" in message and "Did you mean 'relu'?" in message


def _spec():
    return ModelSpec("multiclass", 8, n_classes=3, hidden=[(16, "gelu"), 8], activation="tanh",
                     dropout=0.1, l2=1e-4, optimizer="AdamW", learning_rate=3e-3, seed=5,
                     metrics=["top_k_categorical_accuracy"], logits=True)


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_file_round_trip(tmp_path, suffix):
    spec = _spec()
    path = spec.save(tmp_path / f"model{suffix}")
    again = ModelSpec.load(path)
    assert again == spec
    assert again.hidden == ((16, "gelu"), (8, "tanh"))
    assert again.optimizer == "adamw"


def test_spec_builds_the_same_model_as_kwargs():
    spec = _spec()
    a = build_from_spec(spec)
    b = build_model(**spec.to_dict())
    assert [(type(x).__name__, getattr(x, "units", None)) for x in a.layers] == [
        (type(x).__name__, getattr(x, "units", None)) for x in b.layers]
    assert type(a.optimizer) is type(b.optimizer) and type(a.loss) is type(b.loss)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize(
    "text,suffix,match",
    [
        ('problem = "binary"\ninput_dim = 3\nwidth = 4\n', ".toml", r"Unknown key\(s\) \['width'\].*Valid keys"),
        ('problem = "binary"\ninput_dim = "3"\n', ".toml", r"input_dim='3' \(str\) is not valid: expected an int"),
        ('problem = "binary"\ninput_dim = 3\ndropout = 2.0\n', ".toml", r"dropout=2.0 is not valid"),
        ('problem = "binary"\ninput_dim = 3\nseed = 9223372036854775807\n', ".toml", r"seed=9223372036854775807 is"),
        ('problem = "binary"\ninput_dim = [3\n', ".toml", r"not valid TOML"),
        ('{"problem": "binary", "input_dim": 3, "hiden": [4]}', ".json", r"Unknown key\(s\) \['hiden'\]"),
        ('{"problem": "binary", "input_dim": 3,}', ".json", r"not valid JSON"),
        ('[1, 2]', ".json", r"must be a table/object"),
        ("problem: binary", ".yaml", r"must end in one of \['.json', '.toml'\]"),
    ],
)
def test_bad_spec_files_name_the_key(tmp_path, text, suffix, match):
    path = tmp_path / f"spec{suffix}"
    path.write_text(text)
    with pytest.raises((ValueError, TypeError), match=match):
        ModelSpec.load(path)


def test_a_spec_file_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_bytes('problem = "binary"\ninput_dim = 3\n# caf\xe9\n'.encode("latin-1"))
    with pytest.raises(ValueError, match=r"spec.toml' is not UTF-8 text .*save it as UTF-8"):
        ModelSpec.load(path)


def test_normalize_spec_builds_layers_that_train_adapts_later():
    spec = ModelSpec("regression", 2, normalize=True, normalize_target=True)
    model = build_from_spec(spec)
    assert [type(layer).__name__ for layer in (model.layers[0], model.layers[-1])] == ["Normalization"] * 2
    assert model.layers[-1].invert
    data = np.arange(20, dtype="float32").reshape(10, 2)
    adapted = build_from_spec(spec, normalize=data, normalize_target=data[:, 0])
    np.testing.assert_allclose(np.ravel(adapted.layers[0].mean), data.mean(axis=0), rtol=1e-6)


def test_normalize_target_is_for_linear_heads():
    with pytest.raises(ValueError, match="normalize_target=True applies to linear-output heads"):
        ModelSpec("binary", 2, normalize_target=True)


def test_spec_json_is_plain_json():
    data = json.loads(_spec().to_json())
    assert data["hidden"] == [[16, "gelu"], [8, "tanh"]]
    assert "n_outputs" not in data  # None values are left out
    assert _check_metric("auc") == "auc"
