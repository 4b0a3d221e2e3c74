"""What went wrong reaching a mail server, in words an admin can act on (IMAP and SMTP alike)."""

from __future__ import annotations

import socket
import ssl


def tls_trouble(exc: ssl.SSLError, tls_port: int) -> str:
    """A TLS failure; a plain-text answer to our TLS hello gets the fix, not OpenSSL's words."""
    reason = exc.reason or ""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verification failed: {exc.verify_message} (check host and ca_file)"
    if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
        return (
            f"the server did not answer in TLS ({reason}): security = "
            f'"tls" needs the server\'s TLS port (usually {tls_port}); on this port try '
            'security = "starttls"'
        )
    return f"TLS error: {reason or exc}"


def socket_trouble(exc: OSError) -> str:
    """A socket failure as a few words: no errno numbers, no exception class names."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the port right, and the server up?)"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host: {exc.strerror}"
    if exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__
