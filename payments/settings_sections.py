"""What apps above payments add to Setup › Payments: the terminal app adds its "Terminals" section (the
card readers, registered, renamed and removed on its own pages). A provider gets the request and answers
None to leave its section out."""

from posbackoffice.extensions import Section, Sections

__all__ = ["PAYMENTS", "Section"]

PAYMENTS = Sections("Setup › Payments sections")
