"""A JSON file holding one array of objects (`[{...}, {...}]`): told apart from JSON lines by
its first character, read whole (an array cannot be streamed), each object's line kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from emolabel.errors import EmolabelError
from emolabel.io.encoding import Source, open_binary, stream_errors, utf8_error

_SNIFF_BYTES = 1 << 12
_WHITESPACE = " \t\r\n"


def starts_with_array(path: Source, gzipped: bool) -> bool:
    """True when the first character other than a BOM or whitespace is `[`."""
    stream, _ = open_binary(path, gzipped)
    with stream, stream_errors(path):
        while True:
            head = stream.read(_SNIFF_BYTES)
            if not head:
                return False
            text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
            if text:
                return text[:1] == b"["


def json_array_records(
    path: Source, gzipped: bool, encoding_errors: str
) -> Iterator[tuple[int, dict[str, Any], str]]:
    """(line number, object, its JSON text) for each element of the array, in order."""
    stream, _ = open_binary(path, gzipped)
    with stream, stream_errors(path):
        data = stream.read()
    try:
        body = data.decode("utf-8-sig", errors=encoding_errors)
    except UnicodeDecodeError:
        raise utf8_error(path, gzipped) from None
    counted = [0, 1]  # (offset, line at that offset): elements come in order, count onwards

    def line_of(offset: int) -> int:
        counted[1] += body.count("\n", counted[0], offset)
        counted[0] = offset
        return counted[1]

    decoder = json.JSONDecoder()
    index = _skip_space(body, 0) + 1  # past the "["
    index = _skip_space(body, index)
    if body[index : index + 1] == "]":
        return
    while True:
        try:
            value, end = decoder.raw_decode(body, index)
        except json.JSONDecodeError as exc:
            raise EmolabelError(
                f"{path} line {exc.lineno}: malformed JSON in the array ({exc.msg} at column "
                f"{exc.colno}); fix the file"
            ) from None
        if not isinstance(value, dict):
            raise EmolabelError(
                f"{path} line {line_of(index)}: an array element that is not a JSON object; "
                "write [{...}, {...}], one object per record"
            )
        yield line_of(index), value, body[index:end]
        index = _skip_space(body, end)
        separator = body[index : index + 1]
        if separator == "]":
            if body[_skip_space(body, index + 1) :]:
                raise EmolabelError(
                    f"{path} line {line_of(index)}: text after the array's closing ']'; remove it"
                )
            return
        if separator != ",":
            raise EmolabelError(
                f"{path} line {line_of(index)}: expected ',' or ']' between array elements; "
                "fix the file"
            )
        index = _skip_space(body, index + 1)


def _skip_space(body: str, index: int) -> int:
    while index < len(body) and body[index] in _WHITESPACE:
        index += 1
    return index
