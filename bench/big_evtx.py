"""One large EVTX file from many: the 64 KB chunks of every input, in order, behind one file header.

An EVTX file is a 4 KB header and chunks of 64 KB, each self-contained (its own string and template tables, its
own checksums), so chunks of different files can follow one another. The header's chunk count (16 bits) and its
checksum are rewritten; the chunks are repeated until the file has at least --min-mb megabytes (at most 65,535
chunks, 4 GB). Used by bench/scaling.sh to measure a hunt over one big log, as a 1 GB Security.evtx is.

Usage: python3 bench/big_evtx.py OUT.evtx [--min-mb N] INPUT.evtx...
"""
import argparse
import struct
import sys
import zlib

HEADER = 4096
CHUNK = 65536
MOST_CHUNKS = 0xFFFF


def chunks(path):
    """The well-formed chunks of an EVTX file (those with the chunk magic), as bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b"ElfFile\0"):
        return []
    found = []
    for at in range(HEADER, len(data) - CHUNK + 1, CHUNK):
        chunk = data[at:at + CHUNK]
        if chunk.startswith(b"ElfChnk\0"):
            found.append(chunk)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--min-mb", type=int, default=0)
    args = parser.parse_args()
    first_header = None
    pool = []
    for path in args.inputs:
        with open(path, "rb") as f:
            head = f.read(HEADER)
        found = chunks(path)
        if found and first_header is None:
            first_header = head
        pool.extend(found)
    if not pool:
        sys.exit("no EVTX chunks in the inputs")
    wanted = max(len(pool), -(-args.min_mb * 1024 * 1024 // CHUNK))
    wanted = min(wanted, MOST_CHUNKS)
    header = bytearray(first_header)
    struct.pack_into("<QQ", header, 8, 0, wanted - 1)  # first and last chunk numbers
    struct.pack_into("<H", header, 42, wanted)  # number of chunks
    struct.pack_into("<I", header, 120, 0)  # flags: clean, not full
    struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])) & 0xFFFFFFFF)
    with open(args.out, "wb") as out:
        out.write(header)
        for i in range(wanted):
            out.write(pool[i % len(pool)])
    print("{}: {} chunks ({} MB) from {} chunks of {} files".format(
        args.out, wanted, (HEADER + wanted * CHUNK) >> 20, len(pool), len(args.inputs)))


if __name__ == "__main__":
    main()
