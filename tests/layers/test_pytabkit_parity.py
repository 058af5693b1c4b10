"""The layers against the authors' own code: pytabkit's RealMLP pieces run on the same rows and
weights. Importing pytabkit takes ~15 s (it loads Lightning), so this runs only when asked:
`KERASACT_PARITY=1 .venv/bin/python -m pytest tests/layers/test_pytabkit_parity.py` (and needs
pytabkit and torch, the benchmark's anchor)."""

import os

import keras
import numpy as np
import pytest

if not os.environ.get("KERASACT_PARITY"):
    pytest.skip("set KERASACT_PARITY=1 to check the layers against pytabkit (slow import)", allow_module_level=True)
torch = pytest.importorskip("torch")
pytest.importorskip("pytabkit")

from pytabkit.models.data.data import DictDataset, TensorInfo  # noqa: E402
from pytabkit.models.nn_models import nn as pytabkit_nn  # noqa: E402
from pytabkit.models.nn_models.activations import ParametricActivationLayer, mish  # noqa: E402
from pytabkit.models.nn_models.base import Variable  # noqa: E402
from pytabkit.models.nn_models.categorical import SingleOneHotFactory  # noqa: E402
from pytabkit.models.nn_models.models import smooth_clip_func  # noqa: E402
from pytabkit.models.nn_models.pipeline import MedianCenterFactory, RobustScaleFactory  # noqa: E402

from kerasact.layers import ParametricActivation, PeriodicEmbedding, RobustScale, SmallOneHot  # noqa: E402


def _dataset(x):
    return DictDataset({"x_cont": torch.as_tensor(x)}, {"x_cont": TensorInfo(feat_shape=[x.shape[1]])},
                       device="cpu", n_samples=x.shape[0])


def _out(layer, x):
    return keras.ops.convert_to_numpy(layer(x))


def test_robust_scale_matches_median_center_robust_scale_and_smooth_clip():
    x = np.random.default_rng(0).lognormal(size=(101, 4)).astype(np.float32)
    x[:, 1], x[:90, 2] = 2.0, 0.0  # a constant column; a column whose IQR is 0
    center = MedianCenterFactory()._fit(_dataset(x))
    centred = center.forward_cont(torch.as_tensor(x))
    scale = RobustScaleFactory()._fit(_dataset(centred.numpy()))
    expected = smooth_clip_func(scale.forward_cont(centred)).numpy()
    layer = RobustScale()
    layer.adapt(x)
    np.testing.assert_allclose(_out(layer, x), expected, atol=1e-6)


def test_periodic_embedding_matches_pbld_on_the_same_weights():
    torch.manual_seed(0)
    factory = pytabkit_nn.PLREmbeddingsFactory(plr_sigma=0.1, plr_hidden_1=16, plr_hidden_2=4, plr_act_name="linear",
                                               plr_use_densenet=True, plr_use_cos_bias=True)
    pbld = factory._fit(_dataset(np.zeros((1, 3), np.float32)))
    layer = PeriodicEmbedding()
    layer.build((None, 3))
    layer.set_weights([pbld.weight_1.detach().numpy()[:, 0], pbld.bias_1.detach().numpy()[:, 0],
                       pbld.weight_2.detach().numpy(), pbld.bias_2.detach().numpy()[:, 0]])
    x = np.random.default_rng(1).normal(size=(7, 3)).astype(np.float32)
    np.testing.assert_allclose(_out(layer, x), pbld.forward_cont(torch.as_tensor(x)).detach().numpy(), atol=1e-6)


@pytest.mark.parametrize("n_levels", [1, 2, 3, 8])
def test_small_one_hot_matches_single_one_hot(n_levels):
    infos = {"x_cat": TensorInfo(cat_sizes=[n_levels + 1])}
    fitter = SingleOneHotFactory(max_one_hot_cat_size=9)._create({**infos, "y": TensorInfo(cat_sizes=[2])})
    one_hot = fitter._fit(DictDataset(None, infos, device="cpu", n_samples=1))
    codes = np.arange(n_levels + 1).reshape(-1, 1)
    expected = one_hot.forward_tensors({"x_cat": torch.as_tensor(codes)})["x_cont"].numpy()
    np.testing.assert_array_equal(_out(SmallOneHot(n_levels), codes), expected)


@pytest.mark.parametrize(("name", "fn"), [("selu", torch.selu), ("mish", mish), ("relu", torch.relu)])
def test_parametric_activation_matches(name, fn):
    rng = np.random.default_rng(2)
    alpha, x = rng.uniform(0, 2, size=(1, 4)).astype(np.float32), 3 * rng.normal(size=(6, 4)).astype(np.float32)
    expected = ParametricActivationLayer(fn, Variable(torch.as_tensor(alpha))).forward_cont(torch.as_tensor(x))
    layer = ParametricActivation(name)
    layer.build((None, 4))
    layer.set_weights([alpha[0]])
    np.testing.assert_allclose(_out(layer, x), expected.detach().numpy(), atol=1e-6)
