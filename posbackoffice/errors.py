"""Domain errors raised by services when an action is refused.

The message is already translated (built with gettext at raise time in the user's language) and
is meant to be shown as is on the form or page; views never show exception text of other types.
"""


class DomainError(Exception):
    def __init__(self, message, *, code: str = "refused"):
        super().__init__(str(message))
        self.message = message
        self.code = code


class NotAllowed(DomainError):
    """The actor's role does not allow this change (beyond the view's own permission check)."""
