"""``console.wiring.cap_malloc_arenas``: with real backends the process keeps to
MALLOC_ARENAS glibc malloc arenas however many threads allocate at once (glibc's
``malloc_info`` counts them), unless MALLOC_ARENA_MAX says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from console.wiring import MALLOC_ARENAS

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import ctypes, sys, tempfile, threading
from console.wiring import cap_malloc_arenas
capped = cap_malloc_arenas() if sys.argv[1] == "cap" else None
start = threading.Barrier(8)
def allocate():
    start.wait()
    for _ in range(200):
        blocks = [bytes(2000) for _ in range(200)]  # past pymalloc: glibc's malloc
threads = [threading.Thread(target=allocate) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile(suffix=".xml") as out:
    fh = ctypes.c_void_p(libc.fopen(out.name.encode(), b"w"))
    libc.malloc_info(0, fh)
    libc.fclose(fh)
    print(capped, open(out.name).read().count("<heap nr="))
"""


def arenas(mode: str, **env: str) -> tuple[str, int]:
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    done = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True,
                          text=True, cwd=ROOT, env=environ, check=True, timeout=60)
    capped, count = done.stdout.split()
    return capped, int(count)


def test_eight_threads_allocating_share_the_capped_arenas():
    assert arenas("cap") == ("True", MALLOC_ARENAS)
    assert arenas("none")[1] > MALLOC_ARENAS  # glibc's default: one per contending thread


def test_malloc_arena_max_set_by_the_user_wins():
    assert arenas("cap", MALLOC_ARENA_MAX="4") == ("False", 4)


RELEASE = """
import os, sys
from console.wiring import release_free_memory
def rss():
    with open(f"/proc/{os.getpid()}/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmRSS:")) // 1024
keep = []
blocks = []
for i in range(60000):
    blocks.append(bytes(3000))  # past pymalloc: glibc's heap
    if i % 1000 == 0:
        keep.append(bytes(3000))  # a few live ones all along: the heap cannot shrink
del blocks
before = rss()
released = release_free_memory()
print(released, before, rss())
"""


def test_release_free_memory_gives_the_free_heap_back():
    done = subprocess.run([sys.executable, "-c", RELEASE], capture_output=True, text=True,
                          cwd=ROOT, check=True, timeout=60)
    released, before, after = done.stdout.split()
    assert released == "True"
    assert int(before) - int(after) > 100  # of ~175 MB freed by the program
