"""qualpipe: Danish qualitative text from child-welfare programmes turned into evidence."""

from qualpipe.errors import InputError, UserError
from qualpipe.project import Project, Segment, Status

__all__ = ["Project", "Segment", "Status", "UserError", "InputError"]
__version__ = "0.1.0"
