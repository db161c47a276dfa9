"""Reward shaping (recipe: "Reward shaping"): stable softplus, gating, variants, numpy/torch in and out."""
import math
import sys

import numpy as np
import pytest

from cskit.shaping import SHAPINGS, shape_rewards, sigmoid, softplus


def test_softplus_matches_naive_in_safe_range():
    x = np.linspace(-30, 30, 121)
    np.testing.assert_allclose(softplus(x), np.log1p(np.exp(x)), rtol=1e-12, atol=1e-300)


def test_softplus_extremes():
    with np.errstate(all="raise"):  # no overflow/underflow warnings raised as errors
        big = softplus(np.array([1e4, 710.0, 1e308]))
    assert big[0] == 1e4 and big[1] == 710.0 and np.isfinite(big).all()
    assert softplus(np.array([-1000.0]))[0] >= 0.0
    small = softplus(np.array([-1000.0, -700.0, -50.0]))
    assert (small >= 0).all() and not np.isnan(small).any()
    assert small[1] == pytest.approx(math.exp(-700), rel=1e-12)
    assert small[2] == pytest.approx(math.exp(-50), rel=1e-12)
    assert softplus(0.0) == pytest.approx(math.log(2))
    assert isinstance(softplus(1.0), np.float64)
    assert softplus(-np.inf) == 0.0 and softplus(np.inf) == np.inf


def test_softplus_strictly_positive_for_reasonable_scores():
    x = np.array([-700.0, -100.0, -5.0, 0.0, 5.0])
    assert (softplus(x) > 0).all()
    assert np.all(np.diff(softplus(x)) > 0)  # order preserved


def test_sigmoid_stable():
    s = sigmoid(np.array([-1e4, 0.0, 1e4]))
    np.testing.assert_allclose(s, [0.0, 0.5, 1.0])


def test_shape_rewards_methods():
    s = [2.0, -1.0, 3.0, np.nan]
    v = [True, True, False, False]
    sp = lambda x: math.log1p(math.exp(x))
    out = shape_rewards(s, v)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [sp(2.0), sp(-1.0), 0.0, 0.0])
    np.testing.assert_allclose(shape_rewards(s[:3], v[:3], "raw"), [2.0, -1.0, 3.0])
    np.testing.assert_allclose(shape_rewards(s[:3], v[:3], "raw_gated"), [2.0, -1.0, 0.0])
    np.testing.assert_allclose(shape_rewards(s[:3], v[:3], "softplus_nogate"), [sp(2.0), sp(-1.0), sp(3.0)])
    np.testing.assert_allclose(shape_rewards(s[:3], v[:3], "sigmoid"),
                               [1 / (1 + math.exp(-2)), 1 / (1 + math.exp(1)), 0.0])
    assert shape_rewards(s[:3], None, "raw").tolist() == [2.0, -1.0, 3.0]
    assert set(SHAPINGS) == {"softplus", "raw", "sigmoid", "softplus_nogate", "raw_gated"}


def test_validity_preserving():
    rng = np.random.default_rng(0)
    s = rng.normal(0, 10, size=200)
    v = rng.random(200) < 0.5
    r = shape_rewards(s, v)
    assert r[~v].max() == 0.0 and r[v].min() > 0.0


def test_errors():
    with pytest.raises(ValueError, match="unknown shaping method 'tanh'.*softplus"):
        shape_rewards([1.0], [True], "tanh")
    with pytest.raises(ValueError, match="different lengths"):
        shape_rewards([1.0, 2.0], [True])
    with pytest.raises(ValueError, match="valid="):
        shape_rewards([1.0], None, "softplus")


def test_no_torch_import_for_numpy():
    import subprocess
    code = ("import sys; import numpy as np; from cskit.shaping import shape_rewards, softplus;"
            "shape_rewards([1.0], [True]); softplus(np.ones(3)); assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    x = torch.tensor([1e4, 0.0, -1000.0, -50.0], dtype=torch.float32)
    y = softplus(x)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32
    assert y[0].item() == 1e4 and y[1].item() == pytest.approx(math.log(2), rel=1e-6)
    assert y[2].item() >= 0.0 and not torch.isnan(y).any()
    assert softplus(torch.tensor([3, -3])).dtype == torch.get_default_dtype()
    s = torch.tensor([2.0, -1.0, float("nan")], dtype=torch.float64)
    r = shape_rewards(s, torch.tensor([True, True, False]))
    assert isinstance(r, torch.Tensor) and r.dtype == torch.float64
    np.testing.assert_allclose(r.numpy(), shape_rewards(s.numpy(), [True, True, False]))
    for m in SHAPINGS:
        np.testing.assert_allclose(shape_rewards(s[:2], [True, False], m).numpy(),
                                   shape_rewards(s[:2].numpy(), [True, False], m))
