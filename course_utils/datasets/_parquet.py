"""A minimal reader for one string column of a Parquet file (pure Python + numpy).

The GloVe package ships its 400,000 words as ``glove_6B_index.parquet``. Reading Parquet normally
needs pyarrow (a large dependency the course does not otherwise use), so this module reads just
what that file uses: Thrift compact-protocol metadata, Snappy or no compression, PLAIN and
dictionary (RLE_DICTIONARY) encoded BYTE_ARRAY values, data pages v1 and v2, no nulls, no nesting.
Anything else raises ``ValueError``. The words are read once and cached as text (see ``glove.py``).
"""
from __future__ import annotations

import struct

import numpy as np

# Thrift compact protocol type ids
_TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(1, 13)
# Parquet enums
_UNCOMPRESSED, _SNAPPY = 0, 1
_DATA_PAGE, _DICTIONARY_PAGE, _DATA_PAGE_V2 = 0, 2, 3
_PLAIN, _PLAIN_DICTIONARY, _RLE_DICTIONARY = 0, 2, 8


class _Reader:
    def __init__(self, data: bytes, pos: int = 0):
        self.data, self.pos = data, pos

    def byte(self) -> int:
        self.pos += 1
        return self.data[self.pos - 1]

    def take(self, n: int) -> bytes:
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind: int):
        if kind in (_TRUE, _FALSE):
            return kind == _TRUE
        if kind == _BYTE:
            return self.byte()
        if kind in (_I16, _I32, _I64):
            return self.zigzag()
        if kind == _DOUBLE:
            return struct.unpack("<d", self.take(8))[0]
        if kind == _BINARY:
            return self.take(self.varint())
        if kind in (_LIST, _SET):
            header = self.byte()
            size, elem = header >> 4, header & 0x0F
            if size == 15:
                size = self.varint()
            if elem in (_TRUE, _FALSE):  # booleans inside lists take one byte each
                return [self.byte() == 1 for _ in range(size)]
            return [self.value(elem) for _ in range(size)]
        if kind == _MAP:
            size = self.varint()
            if size == 0:
                return {}
            types = self.byte()
            return {self.value(types >> 4): self.value(types & 0x0F) for _ in range(size)}
        if kind == _STRUCT:
            return self.struct()
        raise ValueError(f"unknown Thrift type {kind}")

    def struct(self) -> dict:
        """A Thrift struct as {field id: value}."""
        fields, last = {}, 0
        while True:
            header = self.byte()
            if header == 0:
                return fields
            delta, kind = header >> 4, header & 0x0F
            last = last + delta if delta else self.zigzag()
            fields[last] = self.value(kind)


def snappy_decompress(data: bytes) -> bytes:
    """Decompress a raw Snappy block."""
    src = _Reader(data)
    size = src.varint()
    out = bytearray()
    while src.pos < len(data):
        tag = src.byte()
        kind = tag & 3
        if kind == 0:  # literal
            length = tag >> 2
            if length >= 60:
                length = int.from_bytes(src.take(length - 59), "little")
            out += src.take(length + 1)
            continue
        if kind == 1:
            length, offset = ((tag >> 2) & 7) + 4, ((tag >> 5) << 8) | src.byte()
        elif kind == 2:
            length, offset = (tag >> 2) + 1, int.from_bytes(src.take(2), "little")
        else:
            length, offset = (tag >> 2) + 1, int.from_bytes(src.take(4), "little")
        start = len(out) - offset
        if offset >= length:
            out += out[start:start + length]
        else:  # the copy overlaps what it produces: repeat the pattern
            pattern = bytes(out[start:])
            out += (pattern * (length // offset + 1))[:length]
    if len(out) != size:
        raise ValueError(f"snappy: expected {size} bytes, got {len(out)}")
    return bytes(out)


def _rle_hybrid(r: _Reader, bit_width: int, count: int) -> np.ndarray:
    """Decode ``count`` values of Parquet's RLE / bit-packed hybrid encoding."""
    values, total = [], 0
    byte_width = (bit_width + 7) // 8
    while total < count:
        header = r.varint()
        if header & 1:  # bit-packed groups of 8 values
            n = (header >> 1) * 8
            bits = np.unpackbits(np.frombuffer(r.take((header >> 1) * bit_width), np.uint8), bitorder="little")
            chunk = bits.reshape(n, bit_width).astype(np.int64) @ (1 << np.arange(bit_width, dtype=np.int64))
        else:  # a run of one repeated value
            n = header >> 1
            chunk = np.full(n, int.from_bytes(r.take(byte_width), "little"), dtype=np.int64)
        values.append(chunk)
        total += n
    return np.concatenate(values)[:count] if values else np.zeros(0, np.int64)


def _plain_strings(r: _Reader, count: int) -> list[str]:
    out = []
    for _ in range(count):
        n = int.from_bytes(r.take(4), "little")
        out.append(r.take(n).decode("utf-8"))
    return out


def read_string_column(path) -> list[str]:
    """All values of the first (string) column of a flat Parquet file without nulls."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"PAR1" or data[-4:] != b"PAR1":
        raise ValueError(f"{path} is not a Parquet file")
    footer_len = int.from_bytes(data[-8:-4], "little")
    meta = _Reader(data, len(data) - 8 - footer_len).struct()
    num_rows = meta[3]
    optional = meta[2][1].get(3, 0) == 1  # schema[1].repetition_type: OPTIONAL columns store definition levels
    words: list[str] = []
    for row_group in meta[4]:
        column = row_group[1][0][3]  # RowGroup.columns[0].meta_data
        codec, num_values = column[4], column[5]
        start = column.get(11) or column[9]  # dictionary page first when there is one
        r = _Reader(data, start)
        dictionary, seen = None, 0
        while seen < num_values:
            header = r.struct()
            page_type, raw_size, size = header[1], header[2], header[3]
            body = r.take(size)
            if page_type == _DATA_PAGE_V2:
                v2 = header[8]
                levels = v2[5] + v2.get(6, 0)
                if v2.get(2, 0):
                    raise ValueError("nulls are not supported")
                compressed = v2.get(7, True)
                payload = body[levels:]
                body = body[:levels] + (snappy_decompress(payload) if codec == _SNAPPY and compressed
                                        else payload)
            elif codec == _SNAPPY:
                body = snappy_decompress(body)
            elif codec != _UNCOMPRESSED:
                raise ValueError(f"compression codec {codec} is not supported")
            if len(body) != raw_size:
                raise ValueError("page size mismatch")
            page = _Reader(body)
            if page_type == _DICTIONARY_PAGE:
                dictionary = _plain_strings(page, header[7][1])
                continue
            if page_type == _DATA_PAGE:
                info = header[5]
                count, encoding = info[1], info[2]
                if optional:  # definition levels: 1 = value present
                    levels_len = int.from_bytes(page.take(4), "little")
                    if not np.all(_rle_hybrid(_Reader(page.take(levels_len)), 1, count) == 1):
                        raise ValueError("nulls are not supported")
            elif page_type == _DATA_PAGE_V2:
                info = header[8]
                count, encoding = info[1], info[4]
                page.take(info[5] + info.get(6, 0))
            else:
                raise ValueError(f"page type {page_type} is not supported")
            if encoding == _PLAIN:
                words += _plain_strings(page, count)
            elif encoding in (_PLAIN_DICTIONARY, _RLE_DICTIONARY):
                ids = _rle_hybrid(page, page.byte(), count)
                words += [dictionary[i] for i in ids]
            else:
                raise ValueError(f"encoding {encoding} is not supported")
            seen += count
    if len(words) != num_rows:
        raise ValueError(f"read {len(words)} values, the file says {num_rows}")
    return words
