"""Settings: every value from the environment, with a default and a typed parser."""

from config.settings import load_settings

__all__ = ["load_settings"]
