"""Cross-check of the dimension estimators against scikit-dimension (test-only extra `crosscheck`)."""
import numpy as np
import pytest

skdim = pytest.importorskip("skdim", reason="pip install 'attnscope[crosscheck]' for the scikit-dimension cross-check")

from attnscope.atlas.dimension import levina_bickel, twonn  # noqa: E402


def _clouds():
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((64, 7)))[0]
    v = rng.standard_normal((2000, 5))
    return {
        "linear 7-D in R^64": rng.standard_normal((1500, 7)) @ Q.T,
        "gaussian 3-D": rng.standard_normal((1500, 3)),
        "4-sphere": v / np.linalg.norm(v, axis=1, keepdims=True),
    }


@pytest.mark.parametrize("name", list(_clouds()))
def test_twonn_and_levina_bickel_agree_with_scikit_dimension(name):
    X = _clouds()[name]
    assert twonn(X).d_lsq == pytest.approx(skdim.id.TwoNN().fit(X).dimension_, rel=1e-9)
    # scikit-dimension's MLE at one K is our estimator with k1 = k2 = K
    assert levina_bickel(X, k1=20, k2=20).d == pytest.approx(skdim.id.MLE(K=20).fit(X).dimension_, rel=1e-9)
