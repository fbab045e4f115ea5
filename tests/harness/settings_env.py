"""Every `HARVEST_*` environment variable the code reads, for tests of deployment artifacts: a setting
spelled wrong in a compose file, a chart or an env file is silently ignored at run time, so the tests
check each name against the pydantic-settings classes themselves."""

from __future__ import annotations

import importlib
import inspect
from functools import cache

from pydantic_settings import BaseSettings

SETTINGS_MODULES = ("harvest.common.settings", "harvest.labels.settings", "harvest.scheduler.settings",
                    "harvest.inference.settings", "harvest.training.config")


@cache
def settings_classes() -> tuple[type[BaseSettings], ...]:
    found: list[type[BaseSettings]] = []
    for name in SETTINGS_MODULES:
        module = importlib.import_module(name)
        found += [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, BaseSettings) and cls is not BaseSettings and cls.__module__ == name]
    return tuple(found)


@cache
def known_variables() -> frozenset[str]:
    """`HARVEST_…` names: each class's env_prefix plus each field name, upper-cased."""
    names: set[str] = set()
    for cls in settings_classes():
        prefix = str(cls.model_config.get("env_prefix", ""))
        names |= {f"{prefix}{field}".upper() for field in cls.model_fields}
    return frozenset(names)


def unknown_variables(names: object) -> list[str]:
    """The HARVEST_* names among `names` that no setting reads."""
    return sorted(n for n in names if str(n).startswith("HARVEST_") and str(n) not in known_variables())
