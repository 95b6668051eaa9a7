"""Long-Tail Lab core: data, models, methods, metrics and training for class-imbalanced learning.

Usable alone (`python -m ltcore ...`) or from a notebook::

    from ltcore import Config, train
    result = train(Config(dataset="digits", ratio=50, epochs=30))
"""
from .config import Config
from .errors import ConfigError, DataMissingError, LTError
from .result import RunResult
from .engine.trainer import Trainer, train

__version__ = "0.1.0"
__all__ = ["Config", "ConfigError", "DataMissingError", "LTError", "RunResult", "Trainer", "train"]
