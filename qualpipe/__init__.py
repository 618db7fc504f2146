"""qualpipe: Danish qualitative text from child-welfare programmes turned into evidence."""

import os

# ONNX Runtime (1.32) ships Microsoft's 1DS telemetry: it queues events with a device id, the process path
# and model names under ~/.cache/Microsoft/DeveloperTools and would send them to mobile.events.data.
# microsoft.com. ORT_DISABLE_TELEMETRY, read when the library starts, turns it off; qualpipe sets it before
# anything imports onnxruntime, whatever the environment says. tests/test_offline.py checks it.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

from qualpipe.errors import InputError, UserError  # noqa: E402
from qualpipe.project import Project, Segment, Status  # noqa: E402

__all__ = ["Project", "Segment", "Status", "UserError", "InputError"]
__version__ = "0.1.0"

del os
