"""The engine's threads named for the operating system too.

A thread Python starts keeps the OS name of the thread that started it: a reader started from Connect's task thread
(through JPype) shows as ``task-thread-<connector>`` in ``top -H``, py-spy and ``/proc``, so its CPU was counted as
Connect's (bench/cpu.py). Linux keeps 15 characters of a name.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_PR_SET_NAME = 15
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if sys.platform == "linux" else None


def name_this_thread(name: str) -> None:
    """Sets the calling thread's OS name (first 15 bytes); a no-op where that is not Linux."""
    if _libc is not None:
        _libc.prctl(_PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)
