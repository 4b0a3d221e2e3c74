"""A logging TCP proxy on 127.0.0.1 in front of an IMAP server: it relays every byte and
records what the client sent, so a test can list the commands a client really used."""

from __future__ import annotations

import re
import socket
import threading
from typing import Self

HOST = "127.0.0.1"
#: IMAP4rev1's own commands (RFC 3501): a client may send these to any server.
BASE_COMMANDS = frozenset(
    {
        "CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "AUTHENTICATE", "LOGIN", "SELECT",
        "EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST", "LSUB",
        "STATUS", "APPEND", "CHECK", "CLOSE", "EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY",
        "UID FETCH", "UID STORE", "UID COPY", "UID SEARCH",
    }
)  # fmt: skip
#: The capability each extension command needs.
NEEDS = {
    "ID": "ID",
    "IDLE": "IDLE",
    "MOVE": "MOVE",
    "UID MOVE": "MOVE",
    "UID EXPUNGE": "UIDPLUS",
    "XLIST": "XLIST",
    "NAMESPACE": "NAMESPACE",
    "ENABLE": "ENABLE",
    "COMPRESS": "COMPRESS=DEFLATE",
    "UNSELECT": "UNSELECT",
}
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")


def commands(stream: bytes) -> list[str]:
    """The commands in a client's byte stream: "LOGIN", "UID MOVE", ... (literals skipped;
    SASL responses and IDLE's DONE, which are not tagged commands, left out)."""
    found: list[str] = []
    pos = 0
    current = b""
    while pos < len(stream):
        end = stream.find(b"\r\n", pos)
        if end < 0:
            break
        line = stream[pos : end + 2]
        pos = end + 2
        literal = _LITERAL.search(line)
        current += line
        if literal:
            pos += int(literal.group(1))  # the literal's bytes, then the line goes on
            continue
        words = current.split()
        current = b""
        if len(words) >= 2 and re.fullmatch(rb"[A-Za-z0-9.]+", words[0]):
            name = words[1].decode("ascii", "replace").upper()
            if name == "UID" and len(words) >= 3:
                name = f"UID {words[2].decode('ascii', 'replace').upper()}"
            found.append(name)
    return found


class LoggingProxy:
    """``with LoggingProxy(port) as proxy``: connect to ``proxy.port`` instead of ``port``."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = upstream_port
        self._listener = socket.create_server((HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self._sessions: list[bytearray] = []
        self._replies: list[bytearray] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._closed = False

    def __enter__(self) -> Self:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closed = True
        self._listener.close()
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection((HOST, self.upstream))
            sent, got = bytearray(), bytearray()
            with self._lock:
                self._sessions.append(sent)
                self._replies.append(got)
                self._sockets += [client, server]
            for src, dst, log in ((client, server, sent), (server, client, got)):
                thread = threading.Thread(target=self._pump, args=(src, dst, log), daemon=True)
                thread.start()

    def _pump(self, src: socket.socket, dst: socket.socket, log: bytearray) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self._lock:
                    log += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._sessions)

    def commands(self) -> list[list[str]]:
        """The commands of each connection so far."""
        with self._lock:
            return [commands(bytes(s)) for s in self._sessions]

    def sent(self) -> bytes:
        with self._lock:
            return b"".join(bytes(s) for s in self._sessions)

    def unadvertised(self, advertised: set[str]) -> list[str]:
        """Commands sent that are neither IMAP4rev1's nor backed by ``advertised``."""
        caps = {c.upper() for c in advertised}
        wrong = []
        for session in self.commands():
            for name in session:
                if name in BASE_COMMANDS:
                    continue
                if NEEDS.get(name) not in caps:
                    wrong.append(name)
        return wrong
