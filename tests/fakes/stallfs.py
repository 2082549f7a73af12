"""A FUSE file system whose reads stop answering, for tests/test_stalls.py: a network mount
that hangs, made here without libfuse (the kernel's /dev/fuse protocol, spoken directly).

    python stallfs.py BACKING MOUNTPOINT STALL_FILE READY_FILE

Serves the regular files of BACKING read-only at MOUNTPOINT. Lookups and attributes always
answer (as on a hung NFS mount whose attributes are cached); a read answers while STALL_FILE
does not exist, and once it does, never: the reader blocks in the kernel until this process
ends (then it gets an error). Every open bypasses the page cache (FOPEN_DIRECT_IO), so what was
read before the stall cannot be served from memory after it. READY_FILE is created once the
mount is up. Needs root and /dev/fuse; exits 2 when it cannot mount."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import stat
import struct
import sys

IN_HEADER = struct.Struct("<IIQQIIIHH")  # len, opcode, unique, nodeid, uid, gid, pid, ...
OUT_HEADER = struct.Struct("<IiQ")  # len, error, unique
ATTR = struct.Struct("<QQQQQQIIIIIIIIII")  # ino size blocks a/m/ctime, nsecs, mode, nlink, ...
ENTRY = struct.Struct("<QQQQII")  # nodeid, generation, entry/attr valid, their nsecs
ATTR_OUT = struct.Struct("<QII")  # attr_valid, attr_valid_nsec, dummy
OPEN_OUT = struct.Struct("<QII")  # fh, open_flags, padding
READ_IN = struct.Struct("<QQII")  # fh, offset, size, read_flags (then lock_owner, flags)
INIT_IN = struct.Struct("<IIII")  # major, minor, max_readahead, flags
INIT_OUT = struct.Struct("<IIIIHHIIHHI7I")
STATFS_OUT = struct.Struct("<QQQQQIIII6I")

LOOKUP, FORGET, GETATTR, OPEN, READ, STATFS, RELEASE = 1, 2, 3, 14, 15, 17, 18
FLUSH, INIT, OPENDIR, READDIR, RELEASEDIR, ACCESS = 25, 26, 27, 28, 29, 34
INTERRUPT, DESTROY, BATCH_FORGET = 36, 38, 42
NO_REPLY = {FORGET, BATCH_FORGET, INTERRUPT}
FOPEN_DIRECT_IO = 1
MAX_WRITE = 128 * 1024
ROOT = 1


class StallFS:
    def __init__(self, backing: str, stall_file: str) -> None:
        self.backing = backing
        self.stall_file = stall_file
        self.nodes: dict[int, str] = {}  # nodeid -> file name
        self.ids: dict[str, int] = {}
        self.held: list[int] = []  # reads never answered

    def attr(self, nodeid: int) -> bytes:
        if nodeid == ROOT:
            return ATTR.pack(ROOT, 0, 0, 0, 0, 0, 0, 0, 0, stat.S_IFDIR | 0o555, 2, 0, 0, 0,
                             4096, 0)
        info = os.stat(os.path.join(self.backing, self.nodes[nodeid]))
        secs = int(info.st_mtime)
        return ATTR.pack(nodeid, info.st_size, (info.st_size + 511) // 512, secs, secs, secs,
                         0, 0, 0, stat.S_IFREG | 0o444, 1, 0, 0, 0, 4096, 0)

    def handle(self, opcode: int, nodeid: int, body: bytes) -> tuple[int, bytes] | None:
        """(errno, reply body) for a request, or None: no reply (now or ever)."""
        if opcode in NO_REPLY:
            return None
        if opcode == INIT:
            _major, minor, readahead, _flags = INIT_IN.unpack_from(body)
            return 0, INIT_OUT.pack(7, min(minor, 31), readahead, 0, 16, 12, MAX_WRITE, 1,
                                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        if opcode == LOOKUP:
            name = body.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            path = os.path.join(self.backing, name)
            if nodeid != ROOT or "/" in name or not os.path.isfile(path):
                return errno.ENOENT, b""
            node = self.ids.setdefault(name, len(self.ids) + 2)
            self.nodes[node] = name
            return 0, ENTRY.pack(node, 0, 60, 60, 0, 0) + self.attr(node)
        if opcode == GETATTR:
            if nodeid != ROOT and nodeid not in self.nodes:
                return errno.ENOENT, b""
            return 0, ATTR_OUT.pack(60, 0, 0) + self.attr(nodeid)
        if opcode in (OPEN, OPENDIR):
            return 0, OPEN_OUT.pack(nodeid, FOPEN_DIRECT_IO if opcode == OPEN else 0, 0)
        if opcode == READ:
            if os.path.exists(self.stall_file):
                return None  # the stall: this read is never answered
            _fh, offset, size, _flags = READ_IN.unpack_from(body)
            with open(os.path.join(self.backing, self.nodes[nodeid]), "rb") as handle:
                handle.seek(offset)
                return 0, handle.read(size)
        if opcode == READDIR:
            return 0, b""  # lookups are enough for the tests; a listing is empty
        if opcode in (RELEASE, RELEASEDIR, FLUSH, ACCESS):
            return 0, b""
        if opcode == STATFS:
            return 0, STATFS_OUT.pack(0, 0, 0, 0, 0, 4096, 255, 4096, 0, 0, 0, 0, 0, 0, 0)
        return errno.ENOSYS, b""

    def serve(self, fd: int) -> None:
        while True:
            try:
                request = os.read(fd, MAX_WRITE + 4096)
            except InterruptedError:
                continue
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.EINTR, errno.EAGAIN):
                    continue  # an interrupted request, retried by the kernel
                return  # ENODEV: unmounted
            length, opcode, unique, nodeid, *_ = IN_HEADER.unpack_from(request)
            if opcode == DESTROY:
                return
            try:
                answer = self.handle(opcode, nodeid, request[IN_HEADER.size:length])
            except OSError as exc:
                answer = (exc.errno or errno.EIO, b"")
            if answer is None:
                if opcode == READ:
                    self.held.append(unique)
                continue
            error, data = answer
            reply = OUT_HEADER.pack(OUT_HEADER.size + (0 if error else len(data)),
                                    -error if error else 0, unique)
            with contextlib.suppress(OSError):  # the request was interrupted meanwhile
                os.write(fd, reply + (b"" if error else data))


def main() -> int:
    backing, mountpoint, stall_file, ready_file = sys.argv[1:5]
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        fd = os.open("/dev/fuse", os.O_RDWR)
    except OSError as exc:
        print(f"stallfs: cannot open /dev/fuse: {exc}", file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    options = f"fd={fd},rootmode=40000,user_id=0,group_id=0,allow_other".encode()
    ms_nosuid, ms_nodev = 2, 4
    if libc.mount(b"stallfs", mountpoint.encode(), b"fuse.stallfs", ms_nosuid | ms_nodev,
                  options) != 0:
        code = ctypes.get_errno()
        print(f"stallfs: mount failed: {os.strerror(code)}", file=sys.stderr)
        return 2
    with open(ready_file, "w") as handle:
        handle.write(str(os.getpid()))
    StallFS(backing, stall_file).serve(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
