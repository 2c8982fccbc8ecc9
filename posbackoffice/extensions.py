"""Page sections that apps higher up contribute to a page of an app below them (which must not import
them): the page's app holds a `Sections` registry, the contributing app registers a `Section` in its
AppConfig.ready, and the page includes each shown section's template with its context as `section`."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    template: str
    context: Callable  # (*what the page passes) -> dict, or None to leave the section out


class Sections:
    def __init__(self):
        self._sections: dict[str, Section] = {}

    def register(self, section: Section) -> None:
        self._sections[section.key] = section

    def shown(self, *args) -> list[dict]:
        """[{"key", "template", "context"}] of the sections to show, in the order they were registered."""
        shown = []
        for section in self._sections.values():
            context = section.context(*args)
            if context is not None:
                shown.append({"key": section.key, "template": section.template, "context": context})
        return shown
