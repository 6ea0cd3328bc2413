"""glibc keeps freed blocks for reuse once emolabel tunes it, and leaves users' settings alone."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the thresholds are glibc's",
)

# Allocate 16 MB with libc's malloc, then report whether it was mmapped and whether the
# heap kept it after free (mallinfo2: hblkhd = mmapped bytes, fordblks = free heap bytes).
PROBE = """
import ctypes, sys
from emolabel.inference.allocator import keep_freed_memory, release_free_memory

class MallInfo2(ctypes.Structure):
    names = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
    _fields_ = [(name, ctypes.c_size_t) for name in names.split()]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
tuned = keep_freed_memory() if sys.argv[1] == "tune" else False
block = libc.malloc(16 << 20)
mapped = libc.mallinfo2().hblkhd >= 16 << 20
libc.free(block)
kept = libc.mallinfo2().fordblks >= 16 << 20
release_free_memory()
still_kept = libc.mallinfo2().fordblks >= 16 << 20
print(tuned, mapped, kept, still_kept)
"""


def _probe(mode: str, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def test_large_blocks_come_from_the_heap_and_stay_after_free_until_released() -> None:
    assert _probe("tune") == ["True", "False", "True", "False"]


def test_glibc_defaults_map_large_blocks() -> None:
    """The probe can tell the difference: without tuning, 16 MB is mmapped and unmapped."""
    assert _probe("none") == ["False", "True", "False", "False"]


def test_user_malloc_settings_win() -> None:
    tuned, mapped, _, _ = _probe("tune", MALLOC_MMAP_THRESHOLD_="131072")
    assert tuned == "False"
    assert mapped == "True"
