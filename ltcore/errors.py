"""User-facing errors: the CLI prints them as one line (exit 2), the UI as a message."""


class LTError(Exception):
    """An error whose message tells the user what to change; never shown as a traceback."""


class ConfigError(LTError):
    """A configuration value is out of range or unknown."""


class UnknownNameError(ConfigError):
    """A registry lookup failed; the message lists the valid names."""


class DataMissingError(LTError):
    """Data files are absent (offline); the message says which files to put where."""


class Terminated(BaseException):
    """SIGTERM arrived (a hard stop, `kill`, the machine shutting down): the run in progress is
    marked stopped/interrupted before the process ends."""
