"""SADE: the authors' architecture at each model's scale and the test-time aggregation option."""
import pytest
import torch

from ltcore import Config, train
from ltcore.errors import ConfigError
from ltcore.methods.experts import ExpertBackbone, ExpertHeads, expert_backbone
from ltcore.models import build_model


@pytest.mark.parametrize("name,shape,branch_dim", [("mlp", (10,), 48), ("cnn", (1, 8, 8), 48),
                                                   ("resnet32", (3, 32, 32), 48), ("cnn1d", (40,), 95)])
def test_experts_share_early_layers_and_own_their_last_stages(name, shape, branch_dim):
    backbone = expert_backbone(build_model(name, shape, 5).backbone)
    assert isinstance(backbone, ExpertBackbone) and backbone.out_dim == 3 * branch_dim
    a, b = backbone.branches[0], backbone.branches[1]
    assert all(p is not q for p, q in zip(a.parameters(), b.parameters()))  # separate weights
    assert not any(p is q for p in backbone.trunk.parameters() for q in a.parameters())
    h = backbone(torch.randn(4, *shape))
    heads = ExpertHeads(backbone.out_dim, 5)
    z = heads.expert_logits(h)
    assert z.shape == (3, 4, 5) and z.abs().max() <= 30 + 1e-4  # s·cos, s = 30
    assert torch.allclose(heads(h), z.mean(0), atol=1e-5)


def test_resnet32_experts_have_the_authors_reduced_widths():
    backbone = expert_backbone(build_model("resnet32", (3, 32, 32), 10).backbone)
    widths = [m.out_channels for m in backbone.branches[0].modules() if isinstance(m, torch.nn.Conv2d)]
    assert set(widths) == {24, 48}  # SADE `reduce_dimension`: 24/48 instead of 32/64


@pytest.mark.slow
def test_test_time_aggregation_learns_and_stores_expert_weights(digits, quick):
    result = train(Config(**quick, method="sade", method_params={"stage2": "test_time_aggregation",
                                                                  "tta_epochs": 2}), data=digits)
    weights = result.extras["sade_weights"]
    assert len(weights) == 3 and sum(weights) == pytest.approx(1.0, abs=1e-3)
    assert result.extras["sade_weight_history"][-1] == weights
    assert torch.allclose(result.model.classifier.aggregation.cpu(), torch.tensor(weights), atol=1e-4)


def test_cnn1d_experts_share_two_convolutions_and_own_the_last_at_three_quarters():
    backbone = expert_backbone(build_model("cnn1d", (40,), 10).backbone)
    convs = lambda m: [c.out_channels for c in m.modules() if isinstance(c, torch.nn.Conv1d)]  # noqa: E731
    assert convs(backbone.trunk) == [25, 25] and convs(backbone.branches[0]) == [19]  # ¾ of 25 channels


@pytest.mark.slow
def test_sade_trains_on_mnist1d_and_learns_its_expert_weights():
    """MNIST-1D's default model is cnn1d: SADE builds its experts on it, trains, and the test-time
    aggregation (Gaussian-noise views: signals have no image augmentation) gives three weights."""
    result = train(Config(dataset="mnist1d", ratio=100, epochs=2, batch_size=128, device="cpu", method="sade",
                          method_params={"stage2": "test_time_aggregation", "tta_epochs": 1}))
    assert result.status == "done", result.error
    assert 0 <= result.balanced_acc <= 1
    weights = result.extras["sade_weights"]
    assert len(weights) == 3 and sum(weights) == pytest.approx(1.0, abs=1e-3)
    assert result.extras["sade_views"].startswith("gaussian noise")


def test_test_time_aggregation_needs_the_experts():
    with pytest.raises(ConfigError, match="experts"):
        Config(dataset="digits", method="ce", method_params={"stage2": "test_time_aggregation"}).validate()
