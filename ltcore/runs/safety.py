"""Shared-server guards as the run system imports them: the one path check lives in
`ltcore.safety` (low in the import layers, so config validation and the loaders can use it), the
plain-tensor loader of user checkpoints in `ltcore.checkpoints`."""
from ..engine.checkpoints import load_user_checkpoint
from ..safety import (allowed_roots, check_config_paths, check_path, config_paths, shared_limits,
                      shared_mode)

__all__ = ["allowed_roots", "check_config_paths", "check_path", "config_paths", "load_user_checkpoint",
           "shared_limits", "shared_mode"]
