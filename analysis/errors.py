"""Exceptions the product raises for problems a user can fix.

Every :class:`DesistError` is shown to the user as a plain message (the CLI exits
with status 2); anything else is an internal error (exit status 1).
"""

from __future__ import annotations


class DesistError(Exception):
    """A problem with the user's input or environment, explained in the message."""

    exit_code = 2


class DatabaseError(DesistError):
    """The study database is missing, unreadable or of an unknown schema."""


class InvalidDatasetError(DesistError):
    """A dataset failed validation; ``report`` holds every problem found."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class AnalysisError(DesistError):
    """An analysis cannot be done as asked (unknown field, no events, group too small...)."""
