"""Parse hooks for the parse worker (``Poller.parse_hook``): a message marked with a header makes
the worker hang, crash, or kill the poll that runs it, on cue and never by timing. Each time a
marked message reaches the hook, a line is appended to the file the marker names, so a test
counts how often a poison message was parsed."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading

_MARK = re.compile(
    rb"^X-Poison: (hang|crash|kill-poll|crash-then-kill-poll) (\S+)\r?$",
    re.MULTILINE | re.IGNORECASE,
)


def hook(raw: bytes) -> None:
    head = raw[: raw.find(b"\r\n\r\n") if b"\r\n\r\n" in raw else len(raw)]
    found = _MARK.search(re.sub(rb"\r?\n[ \t]+", b" ", head))  # unfolded
    if found is None:
        return
    what, tally = found.group(1).decode(), found.group(2).decode()
    if what == "crash-then-kill-poll":  # the first parse crashes the worker, the next the poll
        what = "crash" if parses(tally) == 0 else "kill-poll"
    with open(tally, "a", encoding="utf-8") as out:
        out.write(what + "\n")
    if what == "hang":
        threading.Event().wait()  # until the poll kills this worker
    elif what == "crash":
        os._exit(70)
    else:  # the process that runs the poll dies while its worker is on this message
        # The poll that started this worker (its parent is the fork server, not the poll).
        parent = multiprocessing.parent_process()
        poll = parent.pid if parent is not None and parent.pid else os.getppid()
        os.kill(poll, signal.SIGKILL)
        while not _dead(poll):  # so the poll never sees this worker end first
            threading.Event().wait(0.01)
        os._exit(0)


def _dead(pid: int) -> bool:
    """Gone, or a zombie waiting for its parent to collect it."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(") ")[2][:1] in ("Z", "X")
    except FileNotFoundError:
        return True


def parses(tally: str) -> int:
    """How many times a marked message was handed to the parser."""
    try:
        with open(tally, encoding="utf-8") as found:
            return len(found.read().split())
    except FileNotFoundError:
        return 0
