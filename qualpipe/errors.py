"""Errors a user can act on: one line that names the input and says what to do."""


class UserError(Exception):
    """A problem with the user's input or setup; shown as one line, never as a traceback."""


class InputError(UserError):
    """One input file (or one row of it) could not be ingested; the rest of the batch goes on."""

    def __init__(self, path: object, problem: str, *, line: int | None = None, row: int | None = None):
        where = str(path)
        if line is not None:
            where += f":{line}"
        elif row is not None:
            where += f": row {row}"
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.row = row
