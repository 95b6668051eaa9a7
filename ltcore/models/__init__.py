"""Model registry: every model exposes `features(x)` and a separate `classifier` head."""
from .base import MODELS, LTModel, build_model
from . import small, resnet, conv1d, resnet1d  # noqa: F401  (register entries)

__all__ = ["MODELS", "LTModel", "build_model"]
