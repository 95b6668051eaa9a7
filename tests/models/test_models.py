"""Every registered model: features(x) is the penultimate feature, the classifier is separate."""
import pytest
import torch

from ltcore.models import MODELS, build_model

SHAPES = {"vector": (2,), "image": (3, 32, 32), "signal": (40,)}


@pytest.mark.parametrize("name", MODELS.names())
def test_model_exposes_features_and_separate_classifier(name):
    shape = SHAPES[MODELS.get(name).meta["inputs"]]
    model = build_model(name, shape, num_classes=7).eval()
    x = torch.randn(4, *shape)
    h = model.features(x)
    assert h.shape == (4, model.feature_dim)
    assert torch.allclose(model(x), model.classifier(h), atol=1e-5)
    assert model(x).shape == (4, 7)


def test_resnet32_has_the_published_size_and_64d_feature():
    model = build_model("resnet32", (3, 32, 32), 10)
    params = sum(p.numel() for p in model.parameters())
    assert model.feature_dim == 64
    assert 0.45e6 < params < 0.48e6  # "0.46M params" (He et al. 2016, Table 6)


def test_cnn_runs_on_one_channel_8x8_digits():
    model = build_model("cnn", (1, 8, 8), 10)
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 10)
