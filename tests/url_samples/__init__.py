"""Sample objects for URL patterns with parameters, one module per area.

Each module defines SAMPLES: {url name: callable(account) -> kwargs of an object that belongs to
`account`}. tests/test_url_walk.py merges them all and fails for any URL with parameters that has
no sample, so a new URL cannot escape the walk.
"""

import importlib
import pkgutil


def all_samples() -> dict:
    merged = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        overlap = set(merged) & set(module.SAMPLES)
        assert not overlap, f"samples defined twice: {overlap}"
        merged.update(module.SAMPLES)
    return merged
