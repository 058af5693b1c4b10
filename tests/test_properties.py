"""Property-based tests (hypothesis): any valid spec builds a model with the right output;
any invalid spec, any array with an injected NaN/inf and any label array either passes
validation into a finite Keras loss or raises ValueError/TypeError, never another error."""

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kerasact import HEADS, OPTIMIZERS, activations, build_model, head_of, predict, validate
from kerasact.problems import heads
from kerasact.training import train

FAST = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True)
NONFINITE = st.sampled_from([math.nan, math.inf, -math.inf])
D = 3  # features of the shared models


def count_kwarg(head: heads.Head) -> str:
    # The table says what a head's count means: classes take n_classes, labels/targets n_outputs.
    return "n_classes" if head.count == "classes" else "n_outputs"


@st.composite
def valid_specs(draw) -> dict:
    head = HEADS[draw(st.sampled_from(sorted(HEADS)))]
    count = head.min_count if head.fixed_units else draw(st.integers(head.min_count, 5))
    widths = st.integers(2, 6)  # width 1 with a softmax-like activation is refused, rightly
    return {
        "problem": head.name, "input_dim": draw(st.integers(1, 6)), count_kwarg(head): count,
        "hidden": draw(st.lists(widths | st.tuples(widths, st.sampled_from(activations.DENSE_NAMES)), max_size=3)),
        "activation": draw(st.sampled_from(activations.DENSE_NAMES)),
        "dropout": draw(st.sampled_from([0.0, 0.25])), "batch_norm": draw(st.booleans()),
        "l2": draw(st.sampled_from([0.0, 1e-3])), "loss": draw(st.sampled_from([None, *head.losses])),
        "logits": head.probabilistic and draw(st.booleans()),
        "optimizer": draw(st.sampled_from(["adam", "sgd", "rmsprop"])),
        "learning_rate": draw(st.none() | st.floats(1e-4, 1e-1)), "seed": draw(st.none() | st.integers(0, 99)),
    }


@settings(FAST, max_examples=12)
@given(spec=valid_specs(), n=st.integers(1, 5))
def test_valid_spec_builds_a_model_with_the_right_output(spec, n):
    model = build_model(**spec)
    head = HEADS[spec["problem"]]
    count = spec.get("n_classes", spec.get("n_outputs"))
    out = predict(model, np.ones((n, spec["input_dim"])))
    assert out.shape == (n, head.units(count)) and np.isfinite(out).all()
    # One multilabel unit is one binary unit (same loss, same output): head_of may name either row.
    found = head_of(model)
    assert found.head.losses[found.loss].cls is head.loss_option(spec["loss"])[1].cls


def refused(check) -> bool:
    try:
        check()
    except (ValueError, TypeError):
        return True
    return False


JUNK = st.none() | st.booleans() | st.text(max_size=4) | st.lists(st.integers(-2, 2), max_size=2)
BAD_VALUE = {  # field -> values its check must refuse
    "problem": st.text(max_size=8).filter(lambda s: refused(lambda: heads.get(s))) | st.integers() | st.none(),
    "input_dim": st.integers(max_value=0) | st.floats() | JUNK.filter(lambda v: v is not None),
    "hidden": (st.lists(st.integers(max_value=0), min_size=1, max_size=2) | st.integers()
               | st.text(min_size=1, max_size=3)),
    "activation": st.text(max_size=8).filter(lambda s: refused(lambda: activations.get(s))) | st.integers(),
    "dropout": st.floats(min_value=1.0) | st.floats(max_value=-1e-6) | st.just(math.nan) | st.text(max_size=2),
    "l2": st.floats(max_value=-1e-6) | st.just(math.nan) | st.text(max_size=2),
    "learning_rate": st.floats(max_value=0.0) | st.just(math.nan) | st.text(max_size=2),
    "optimizer": st.text(max_size=8).filter(lambda s: s.strip().lower() not in OPTIMIZERS) | st.integers(),
    "batch_norm": st.integers() | st.text(max_size=2),
    "logits": st.integers() | st.text(max_size=2),
    "seed": st.integers(max_value=-1) | st.floats() | st.text(max_size=2),
}


@settings(FAST, max_examples=60)
@given(spec=valid_specs(), field=st.sampled_from(sorted(BAD_VALUE) + ["loss", "count"]), data=st.data())
def test_invalid_spec_raises_value_or_type_error(spec, field, data):
    head = HEADS[spec["problem"]]
    if field == "loss":
        spec["loss"] = data.draw(st.text(max_size=8).filter(lambda s: refused(lambda: head.loss_option(s))))
    elif field == "count":
        spec[count_kwarg(head)] = data.draw(st.integers(-3, head.min_count - 1) | st.text(max_size=2))
    else:
        spec[field] = data.draw(BAD_VALUE[field])
    with pytest.raises((ValueError, TypeError)):
        build_model(**spec)


@st.composite
def with_nonfinite(draw, shape) -> np.ndarray:
    arr = draw(hnp.arrays(np.float64, shape, elements=st.floats(-1e6, 1e6)))
    arr.flat[draw(st.integers(0, arr.size - 1))] = draw(NONFINITE)
    return arr


@settings(FAST, max_examples=60)
@given(X=with_nonfinite(hnp.array_shapes(min_dims=2, max_dims=2, max_side=6)))
def test_nonfinite_X_always_raises_value_error(X):
    with pytest.raises(ValueError, match="X has .*NaN/inf"):
        validate(X)


@pytest.fixture(scope="module")
def models():
    """One model per label format of the head table."""
    found = {}
    for problem, head in HEADS.items():
        for loss, option in head.losses.items():
            count = head.min_count if head.fixed_units else 3
            found.setdefault(option.labels, build_model(problem, D, hidden=[4], loss=loss, seed=0,
                                                        **{count_kwarg(head): count}))
    return found


@settings(FAST, max_examples=20)
@given(n=st.integers(2, 8), data=st.data())
def test_nonfinite_data_never_reaches_tensorflow(models, n, data):
    model = models[data.draw(st.sampled_from(sorted(models)))]
    X = data.draw(with_nonfinite((n, D)))
    with pytest.raises(ValueError, match="X has .*NaN/inf"):
        predict(model, X)
    y = data.draw(with_nonfinite((n,)))
    with pytest.raises(ValueError, match="y has .*NaN/inf"):
        train(model, np.zeros((n, D)), y, epochs=1, verbose=0)


SHAPES = st.tuples(st.just(12)) | st.tuples(st.just(12), st.integers(1, 4))
LABELS = (hnp.arrays(st.sampled_from([np.int64, np.float64]), SHAPES, elements=st.integers(-2, 4))
          | hnp.arrays(np.bool_, SHAPES)
          | hnp.arrays(np.float64, st.just((12,)), elements=st.floats(-3, 3))
          | st.lists(st.sampled_from(["a", "b", "c"]), min_size=12, max_size=12).map(np.array))


@settings(FAST, max_examples=100)
@given(y=LABELS, encode=st.booleans(), data=st.data())
def test_any_labels_pass_into_a_finite_loss_or_raise_cleanly(models, y, encode, data):
    fmt = data.draw(st.sampled_from(sorted(models)))
    model, X = models[fmt], np.linspace(-1, 1, 12 * D).reshape(12, D)
    try:
        out = validate(X, y, model=model, encode=encode)
    except (ValueError, TypeError):
        event("refused")
        return
    event("accepted")
    loss = float(model.loss(out.y, model(out.X)))
    assert math.isfinite(loss), (fmt, y)
