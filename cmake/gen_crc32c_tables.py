#!/usr/bin/env python3
"""Generate core/crc32c_tables.h: python3 cmake/gen_crc32c_tables.py > core/crc32c_tables.h (then add the header comment)."""
POLY = 0x82F63B78
def step_byte(c, b):
    c ^= b
    for _ in range(8):
        c = (c >> 1) ^ (POLY if c & 1 else 0)
    return c
# slicing-by-8 tables
t = [[0]*256 for _ in range(8)]
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ (POLY if c & 1 else 0)
    t[0][n] = c
for n in range(256):
    c = t[0][n]
    for k in range(1, 8):
        c = t[0][c & 0xff] ^ (c >> 8)
        t[k][n] = c
def zeros(nbytes):
    basis = []
    for bit in range(32):
        c = 1 << bit
        for _ in range(nbytes):
            c = step_byte(c, 0)
        basis.append(c)
    tab = [[0]*256 for _ in range(4)]
    for k in range(4):
        for b in range(256):
            v = 0
            for i in range(8):
                if b >> i & 1:
                    v ^= basis[8*k + i]
            tab[k][b] = v
    return tab
def emit(name, tabs):
    out = [f"static const uint32_t {name}[{len(tabs)}][256] = {{"]
    for tb in tabs:
        out.append("    {")
        for i in range(0, 256, 6):
            out.append("        " + ", ".join(f"0x{v:08x}" for v in tb[i:i+6]) + ",")
        out.append("    },")
    out.append("};")
    return "\n".join(out)
print(emit("crc32c_table", t))
print()
print(emit("crc32c_zeros_long", zeros(8192)))
print()
print(emit("crc32c_zeros_short", zeros(256)))
