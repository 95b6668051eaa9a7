"""`--pretrained` for resnet18: torchvision's ImageNet weights from the torch hub cache, offline, or
one line saying where to put which file (never a download)."""
import pytest
import torch

from ltcore import Config
from ltcore.errors import ConfigError, DataMissingError
from ltcore.models import build_model
from ltcore.models.resnet import imagenet_weights_file


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)          # get_dir() reads TORCH_HOME again
    return tmp_path / "hub" / "checkpoints"


def test_missing_weights_say_which_file_goes_where(hub):
    path = imagenet_weights_file()
    assert path.parent == hub and path.name.startswith("resnet18-") and path.name.endswith(".pth")
    with pytest.raises(DataMissingError) as info:
        build_model("resnet18", (3, 32, 32), 10, pretrained=True)
    message = str(info.value)
    assert "\n" not in message and path.name in message and str(hub) in message
    assert not hub.exists() or not any(hub.iterdir())          # nothing was downloaded


def test_cached_weights_are_loaded_where_names_and_shapes_match(hub):
    hub.mkdir(parents=True)
    fake = {"layer1.0.conv1.weight": torch.full((64, 64, 3, 3), 0.25),   # a small stand-in file
            "conv1.weight": torch.ones(64, 3, 7, 7),                        # ImageNet's 7×7 stem
            "fc.weight": torch.ones(1000, 512)}
    torch.save(fake, imagenet_weights_file())
    model = build_model("resnet18", (3, 32, 32), 10, pretrained=True)
    net = model.backbone.net
    assert torch.equal(net.layer1[0].conv1.weight, fake["layer1.0.conv1.weight"])
    assert net.conv1.weight.shape == (64, 3, 3, 3) and not torch.equal(net.conv1.weight, torch.ones(64, 3, 3, 3))
    info = model.backbone.pretrained
    assert info["loaded"] == 1 and "conv1.weight" in info["skipped"]
    plain = build_model("resnet18", (3, 32, 32), 10)
    assert not torch.equal(plain.backbone.net.layer1[0].conv1.weight, fake["layer1.0.conv1.weight"])


def test_pretrained_is_refused_for_models_without_weights():
    with pytest.raises(ConfigError, match="resnet18"):
        Config(dataset="digits", pretrained=True).validate()
    with pytest.raises(ConfigError, match="no pre-trained weights"):
        build_model("resnet32", (3, 32, 32), 10, pretrained=True)
    assert Config().run_id == Config(pretrained=False).run_id != Config(pretrained=True).run_id
