"""What apps above accounts add to Setup › General: saved_cards adds the "Saved payment method"
section. A provider gets the request and answers None to leave its section out (e.g. for a role that
may not change it); each section's form posts to its own app's view, which checks the same rule."""

from posbackoffice.extensions import Section, Sections

__all__ = ["GENERAL", "Section"]

GENERAL = Sections("Setup › General sections")
