"""The one exception type for "this cannot be differentiated like this"."""

from __future__ import annotations

import dis
import os
import sys

_STORE_SUBSCR = dis.opmap["STORE_SUBSCR"]

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


def storing_into_an_array(what: str) -> DifferentiationError | None:
    """The refusal for ``out[i] = x`` when a conversion of the box ``x`` is asked for by numpy
    storing it into a plain array (the user's frame is at a store into a subscript), else None.

    numpy reports that as "setting an array element with a sequence", with this refusal as
    its cause; :class:`adlab.core.transform.running` hands the refusal itself to the user.
    """
    frame = sys._getframe(2)  # the user's line: numpy's store calls float() from C
    code = frame.f_code.co_code
    if frame.f_lasti < 0 or code[frame.f_lasti] != _STORE_SUBSCR:
        return None
    return DifferentiationError(
        f"out[i] = ... would store a {what} into a plain numpy array, which holds numbers "
        "only: the value would lose its derivative. Build the array from its elements "
        "instead: out = ad.stack([x[i] * x[i] for i in range(n)]) (or ad.concatenate, "
        "ad.where)"
    )
