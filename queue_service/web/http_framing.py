"""When the bytes a client sent so far make a whole HTTP/1.1 request: what the web process
reads on its event loop before a thread is given to the request (``web/server.py``).

The answer only needs to be right for requests the app could serve; anything odd (a head
or body over the limits, a framing this does not follow) is handed on at once, for
gunicorn's parser and the app to refuse as they do today.
"""

from __future__ import annotations

import re
from enum import Enum

# gunicorn's own limits on a request's head: a 4094-byte request line and 100 header
# fields of up to 8190 bytes each. A head longer than that is refused by its parser anyway.
MAX_HEAD_BYTES = 4094 + 100 * 8190

_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d{1,12})[ \t]*(?=\r\n|$)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding[ \t]*:[^\r\n]*chunked", re.IGNORECASE)
_EXPECT_CONTINUE = re.compile(rb"\r\nexpect[ \t]*:[ \t]*100-continue", re.IGNORECASE)
_CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,8})(?:;[\x20-\x7e\t]*)?\r\n")
_MAX_SIZE_LINE = 1024


class Progress(Enum):
    HEAD = "head"  # the head is not all there yet
    BODY = "body"  # the head is, the body is not yet
    BODY_AFTER_CONTINUE = "body_after_continue"  # as BODY; the client waits for "100 Continue"
    READY = "ready"  # hand it on: whole, or for the parser to refuse


def progress(received: bytes | bytearray, max_body_bytes: int) -> Progress:
    """How far ``received`` (the bytes of one connection since its last request) has come."""
    head_end = received.find(_HEAD_END)
    if head_end < 0:
        return Progress.READY if len(received) > MAX_HEAD_BYTES else Progress.HEAD
    head = bytes(received[:head_end])
    body = memoryview(received)[head_end + len(_HEAD_END) :]
    if _CHUNKED.search(head):
        done = len(body) > max_body_bytes or _chunks_done(bytes(body))
    else:
        lengths = _CONTENT_LENGTH.findall(head)
        if len(set(lengths)) > 1:
            return Progress.READY  # two lengths: the parser refuses it
        length = int(lengths[0]) if lengths else 0
        done = length > max_body_bytes or len(body) >= length
    if done:
        return Progress.READY
    return Progress.BODY_AFTER_CONTINUE if _EXPECT_CONTINUE.search(head) else Progress.BODY


def _chunks_done(body: bytes) -> bool:
    """Whether a chunked body is all there, or goes wrong somewhere (its parser refuses it
    then, at once, rather than after the client's time ran out)."""
    at = 0
    while True:
        line_end = body.find(b"\r\n", at)
        if line_end < 0:
            return len(body) - at > _MAX_SIZE_LINE
        size_line = _CHUNK_SIZE_LINE.fullmatch(body, at, line_end + 2)
        if size_line is None:
            return True  # not a chunk size: for the parser to refuse
        size, at = int(size_line[1], 16), line_end + 2
        if size == 0:
            return body.find(b"\r\n\r\n", at - 2) >= 0  # the trailers' end
        if len(body) < at + size + 2:
            return False
        if body[at + size : at + size + 2] != b"\r\n":
            return True
        at += size + 2
