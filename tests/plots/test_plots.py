"""kerasact.plots: every figure builds from plain arrays; PNG and array export work."""


import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn import metrics as skm

from kerasact import plots

RNG = np.random.default_rng(0)
Y_BIN = np.array([0, 0, 1, 1, 0, 1, 1, 0, 1, 0])
SCORES = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.6, 0.55, 0.7, 0.3])
Y_REG = RNG.normal(size=(30, 3))
HISTORY = {"loss": [1.0, 0.6, 0.4], "accuracy": [0.5, 0.7, 0.8],
           "val_loss": [1.1, 0.8, 0.6], "val_accuracy": [0.4, 0.6, 0.7]}
SIGMOID = (lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2)
GRID_T = np.linspace(0, 200, 50)

# name -> (function, kwargs, Line2D count expected on each axes; the axes count is its length)
CASES = {
    "learning curves": (plots.learning_curves, dict(history=HISTORY), [2, 2]),
    "learning curves, loss only": (plots.learning_curves, dict(history={"loss": [1.0, 0.5]}), [1]),
    "confusion matrix": (plots.confusion_matrix, dict(y_true=[0, 1, 2, 2], y_pred=[0, 2, 2, 1]), [0]),
    "roc": (plots.roc_curve, dict(y_true=Y_BIN, scores=SCORES), [2]),
    "parity, one output": (plots.parity, dict(y_true=Y_REG[:, 0], y_pred=Y_REG[:, 0] + 0.1), [1]),
    "parity, three outputs": (plots.parity, dict(y_true=Y_REG, y_pred=Y_REG * 0.9), [1, 1, 1]),
    "activation grid": (plots.activation_grid, dict(activations={
        "sigmoid": SIGMOID, "tanh": (np.tanh, None), "relu": (lambda x: np.maximum(x, 0), None),
        "identity": (lambda x: x, np.ones_like), "square": (np.square, lambda x: 2 * x)}),
        [2, 1, 1, 2, 2]),
    "softmax bars": (plots.softmax_bars, dict(scores=[2.0, 1.0, 0.1],
                                              probabilities=[0.659, 0.242, 0.099]), [0, 0]),
    "decision boundary": (plots.decision_boundary, dict(
        predict=lambda g: 1 / (1 + np.exp(-g[:, 0] * g[:, 1])), X=RNG.normal(size=(20, 2)),
        y=RNG.integers(0, 2, 20)), [0]),
    "descent path": (plots.descent_path, dict(f=lambda a, b: a**2 + 3 * b**2,
                                              path=[[2.0, 1.0], [1.2, 0.3], [0.6, 0.1]]), [1]),
    "tangent lines": (plots.tangent_lines, dict(f=np.square, points=[-1.0, 0.5],
                                                slopes=[-2.0, 1.0]), [3]),
    "threshold fit": (plots.threshold_fit, dict(
        t=[100.0, 120.0, 140.0, 160.0], y=[0, 0, 1, 1], t_grid=GRID_T,
        p_grid=1 / (1 + np.exp(130.0 - GRID_T)), boundary=130.0), [3]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_figure_has_expected_axes_and_lines(case):
    function, kwargs, lines = CASES[case]
    fig = function(**kwargs)
    assert isinstance(fig, Figure)
    assert [len(ax.lines) for ax in fig.axes] == lines
    assert figure_renders(fig)


def figure_renders(fig):
    image = plots.figure_to_array(fig)
    return image.std() > 0  # something other than a blank canvas was drawn


def test_learning_curves_picks_first_metric_skipping_learning_rate():
    history = {"loss": [1.0], "learning_rate": [0.1], "mae": [0.5], "mse": [0.3], "val_mae": [0.6]}
    assert [ax.get_title() for ax in plots.learning_curves(history).axes] == ["loss", "mae"]
    fig = plots.learning_curves(history, metric="mse")
    assert fig.axes[1].get_title() == "mse" and len(fig.axes[1].lines) == 1


LEARNING_CURVE_ERRORS = {
    "unknown metric": (dict(history=HISTORY, metric="auc"), ValueError, r"\['accuracy'\]; got 'auc'"),
    "no loss": (dict(history={"accuracy": [0.5]}), ValueError, "'loss' key"),
    "History object": (dict(history=object()), TypeError, r"history\.history"),
}


@pytest.mark.parametrize("case", sorted(LEARNING_CURVE_ERRORS))
def test_learning_curves_errors(case):
    kwargs, error, match = LEARNING_CURVE_ERRORS[case]
    with pytest.raises(error, match=match):
        plots.learning_curves(**kwargs)


def test_roc_legend_auc_is_sklearns():
    fig = plots.roc_curve(Y_BIN, SCORES)
    fpr, tpr, _ = skm.roc_curve(Y_BIN, SCORES)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[0] == f"ROC (AUC = {skm.auc(fpr, tpr):.3f})"


def test_confusion_matrix_annotates_sklearn_counts():
    y_true, y_pred = ["a", "b", "b", "c", "c", "c"], ["a", "b", "c", "c", "c", "a"]
    fig = plots.confusion_matrix(y_true, y_pred)
    texts = [int(t.get_text()) for t in fig.axes[0].texts]
    assert texts == skm.confusion_matrix(y_true, y_pred).ravel().tolist()


def test_parity_titles_carry_r2():
    y_pred = Y_REG * 0.8
    titles = [ax.get_title() for ax in plots.parity(Y_REG, y_pred, names=["w", "x", "p"]).axes]
    assert titles == [f"{n}: R² = {skm.r2_score(Y_REG[:, j], y_pred[:, j]):.3f}"
                      for j, n in enumerate("wxp")]


def test_softmax_bars_say_they_sum_to_one():
    fig = plots.softmax_bars([1.0, 0.0], [0.731, 0.269], labels=["yes", "no"])
    assert "sum = 1.000" in fig.axes[1].get_title()
    assert [len(ax.patches) for ax in fig.axes] == [2, 2]


def test_decision_boundary_accepts_per_class_probabilities():
    X = RNG.normal(size=(15, 2))
    fig = plots.decision_boundary(lambda g: np.stack([g[:, 0], g[:, 1], -g[:, 0]], 1), X,
                                  RNG.integers(0, 3, 15), title="three classes")
    assert fig.axes[0].get_title() == "three classes"


SHAPE_ERRORS = {
    "decision boundary 3-D X": (lambda: plots.decision_boundary(np.sum, np.zeros((4, 3)), [0] * 4),
                                "X must have shape"),
    "descent path 1-D": (lambda: plots.descent_path(np.add, [1.0, 2.0]), "path must have shape"),
    "tangent counts": (lambda: plots.tangent_lines(np.square, [1.0], [1.0, 2.0]), "slopes must have one value"),
    "softmax counts": (lambda: plots.softmax_bars([1.0, 2.0], [1.0]), "probabilities must have one"),
    "parity mismatch": (lambda: plots.parity([1.0, 2.0], [1.0]), "y_pred must match"),
    "empty activations": (lambda: plots.activation_grid({}), "activations must map"),
}


@pytest.mark.parametrize("case", sorted(SHAPE_ERRORS))
def test_shape_errors_name_the_argument(case):
    action, match = SHAPE_ERRORS[case]
    with pytest.raises(ValueError, match=match):
        action()


def test_save_png_writes_png_in_new_dirs(tmp_path):
    fig = plots.learning_curves(HISTORY)
    width, height = (fig.get_size_inches() * plots.DPI).round().astype(int)
    path = plots.save_png(fig, tmp_path / "run" / "figs" / "curves.png")
    assert path == tmp_path / "run" / "figs" / "curves.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert mpimg.imread(path).shape == (height, width, 4)
    with pytest.raises(ValueError, match=r"path must end in '\.png'; got '.*curves\.jpg'"):
        plots.save_png(fig, tmp_path / "curves.jpg")


def test_save_png_closes_pyplot_figures(tmp_path):
    import matplotlib.pyplot as plt

    fig = plt.figure()
    plots.save_png(fig, tmp_path / "f.png")
    assert not plt.fignum_exists(fig.number)


def test_figure_to_array_is_uint8_rgba():
    fig = plots.roc_curve(Y_BIN, SCORES)
    width, height = (fig.get_size_inches() * plots.DPI).round().astype(int)
    image = plots.figure_to_array(fig)
    assert image.dtype == np.uint8 and image.shape == (height, width, 4)
    assert (image[..., 3] == 255).all()  # opaque: safe for tf.summary.image


def test_confusion_matrix_with_long_class_names_keeps_its_axes(recwarn):
    names = ["Adelie Penguin (Pygoscelis adeliae)", "Chinstrap penguin (Pygoscelis antarctica)"]
    fig = plots.confusion_matrix(names, names[::-1], labels=names)
    plots.figure_to_array(fig)  # lays the figure out, as saving does
    assert not [w for w in recwarn if "constrained_layout" in str(w.message)]
    assert all(len(t.get_text()) <= plots.MAX_LABEL for t in fig.axes[0].get_xticklabels())
