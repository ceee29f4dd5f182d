"""A tiny WebAssembly encoder for test plugins (well-behaved and hostile ones).

Enough of the binary format for the plugin ABI (plugins/ABI.md): types, an optional
import, functions, one memory, exports, code and one data segment. It keeps the tests free
of a WAT toolchain.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

I32 = 0x7F
I64 = 0x7E

# Instructions used by the fixtures.
UNREACHABLE = b"\x00"
END = b"\x0b"
DROP = b"\x1a"
LOOP_FOREVER = b"\x03\x40\x0c\x00\x0b"  # loop (br 0) end


def uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte if done else byte | 0x80)
        if done:
            return bytes(out)


def i32_const(value: int) -> bytes:
    return b"\x41" + sleb(value)


def i64_const(value: int) -> bytes:
    return b"\x42" + sleb(value)


def memory_grow(pages: int) -> bytes:
    return i32_const(pages) + b"\x40\x00" + DROP


def name(text: str) -> bytes:
    raw = text.encode()
    return uleb(len(raw)) + raw


def vector(items: Sequence[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + uleb(len(payload)) + payload


def functype(params: Sequence[int], results: Sequence[int]) -> bytes:
    return b"\x60" + vector([bytes([p]) for p in params]) + vector([bytes([r]) for r in results])


def returns(pointer: int, length: int) -> bytes:
    """A hook body returning the block (pointer, length)."""
    return i64_const((pointer << 32) | length)


def plugin(
    output: Optional[bytes] = None,
    *,
    body: Optional[bytes] = None,
    abi: int = 1,
    pages: int = 1,
    hook: str = "pitstop_checkout",
    imports: Sequence[Tuple[str, str]] = (),
    alloc: bool = True,
) -> bytes:
    """A plugin module. With `output`, the hook returns those bytes (stored at offset 16);
    with `body`, the hook runs that code (which must leave an i64 on the stack)."""
    data_offset = 16
    if body is None:
        assert output is not None
        body = returns(data_offset, len(output))
    types = [functype([], []), functype([I32], [I32]), functype([I32, I32], [I64]), functype([I32], [])]
    import_entries = [name(module) + name(field) + b"\x00" + uleb(3) for module, field in imports]
    first = len(import_entries)
    # Functions: marker, alloc, hook.
    functions: List[Tuple[int, bytes]] = [(0, b"")]
    exports = [name(f"pitstop_abi_version_{abi}") + b"\x00" + uleb(first)]
    if alloc:
        functions.append((1, i32_const(1024)))
        exports.append(name("pitstop_alloc") + b"\x00" + uleb(first + 1))
    functions.append((2, body))
    exports.append(name(hook) + b"\x00" + uleb(first + len(functions) - 1))
    exports.append(name("memory") + b"\x02" + uleb(0))
    codes = []
    for _, code in functions:
        func = b"\x00" + code + END  # no locals
        codes.append(uleb(len(func)) + func)
    module = b"\x00asm" + b"\x01\x00\x00\x00"
    module += section(1, vector(types))
    if import_entries:
        module += section(2, vector(import_entries))
    module += section(3, vector([uleb(t) for t, _ in functions]))
    module += section(5, vector([b"\x00" + uleb(pages)]))
    module += section(7, vector(exports))
    module += section(10, vector(codes))
    if output is not None:
        segment = b"\x00" + i32_const(data_offset) + END + uleb(len(output)) + output
        module += section(11, vector([segment]))
    return module
