"""gv_notify_listener.py - the supervisor's end of gvproxy's -notification:
a unix stream listener that records what each connection sent.

    gv_notify_listener.py PATH OUT [SECS]

Binds PATH, accepts connections one at a time and appends each one's bytes,
read until the sender closes it (at most 5 s), to OUT, then a line
"-- conn N" so a test can tell one connection per message from one
connection carrying several. Exits after SECS (default 60) seconds, or when
killed; removes PATH.
"""
import os, socket, sys, time

path, out = sys.argv[1], sys.argv[2]
end = time.monotonic() + (float(sys.argv[3]) if len(sys.argv) > 3 else 60)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
n = 0
with open(out, "ab", buffering=0) as f:
    try:
        while time.monotonic() < end:
            s.settimeout(max(0.1, end - time.monotonic()))
            try:
                c, _ = s.accept()
            except socket.timeout:
                break
            c.settimeout(5)
            data = b""
            try:
                while True:
                    b = c.recv(4096)
                    if not b:
                        break
                    data += b
            except socket.timeout:
                data += b"<no EOF within 5 s>\n"
            c.close()
            n += 1
            f.write(data + b"-- conn %d\n" % n)
    finally:
        os.unlink(path)
