"""Page sections that apps higher up contribute to a page of an app below them (which must not import
them): the page's app holds a `Sections` registry, the contributing app registers a `Section` under a
key in its AppConfig.ready, and the page includes each shown section's template with its context as
`section`."""

from collections.abc import Callable
from dataclasses import dataclass

from posbackoffice.registry import Registry


@dataclass(frozen=True)
class Section:
    template: str
    context: Callable  # (*what the page passes) -> dict, or None to leave the section out


class Sections(Registry[Section]):
    def shown(self, *args) -> list[dict]:
        """[{"key", "template", "context"}] of the sections to show, in the registry's order."""
        shown = []
        for key, section in self.items():
            context = section.context(*args)
            if context is not None:
                shown.append({"key": key, "template": section.template, "context": context})
        return shown
