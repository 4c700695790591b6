"""The one exception type for "this cannot be differentiated like this"."""

from __future__ import annotations

import os

#: The directory of adlab's own code, with a trailing separator: a traceback frame of a
#: file under it is adlab's machinery, not the user's code.
ADLAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class DifferentiationError(TypeError, ValueError):
    """A construct that adlab cannot differentiate, with the fix in the message.

    It subclasses both ``TypeError`` (a traced value used where a plain number is
    required) and ``ValueError`` (an argument of the wrong shape or kind), so
    code that catches either keeps working. Messages name the construct, the
    primitive or line where known, and what to write instead.
    """
