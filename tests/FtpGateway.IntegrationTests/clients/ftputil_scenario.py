"""A session with ftputil (the high-level FTP library, from Debian's python3-ftputil); exits non-zero on the
first wrong answer. Run with Debian's /usr/bin/python3.

usage: ftputil_scenario.py PORT USER PASSWORD
"""
import ftplib
import io
import sys

import ftputil
import ftputil.session

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def check(condition, what):
    if not condition:
        print("FAILED: " + what, file=sys.stderr)
        sys.exit(1)


factory = ftputil.session.session_factory(base_class=ftplib.FTP, port=port, use_passive_mode=True, encrypt_data_channel=False)
with ftputil.FTPHost("127.0.0.1", user, password, session_factory=factory) as host:
    host.makedirs("util/deep/er")
    check(host.path.isdir("util/deep/er"), "makedirs made the tree")
    payload = bytes(range(256)) * 4096
    with host.open("util/deep/er/blob.bin", "wb") as f:
        f.write(payload)
    check(host.path.getsize("util/deep/er/blob.bin") == len(payload), "getsize after write")
    with host.open("util/deep/er/blob.bin", "rb") as f:
        check(f.read() == payload, "read back the same bytes")

    # chmod is SITE CHMOD: it must not raise.
    host.chmod("util/deep/er/blob.bin", 0o640)

    # stat parses the server's LIST lines.
    st = host.stat("util/deep/er/blob.bin")
    check(st.st_size == len(payload), "stat size: %r" % (st,))
    check(host.listdir("util/deep") == ["er"], "listdir: %r" % host.listdir("util/deep"))

    host.rename("util/deep/er/blob.bin", "util/renamed.bin")
    check(host.path.isfile("util/renamed.bin") and not host.path.exists("util/deep/er/blob.bin"), "rename")
    walked = [(d, sorted(dirs), sorted(files)) for d, dirs, files in host.walk("util")]
    check(walked[0] == ("util", ["deep"], ["renamed.bin"]), "walk: %r" % walked)

    with host.open("util/text.txt", "w", encoding="utf-8") as f:
        f.write("Grüße\nline two\n")
    with host.open("util/text.txt", "r", encoding="utf-8") as f:
        check(f.read() == "Grüße\nline two\n", "text mode round trip")

    host.rmtree("util")
    check(not host.path.exists("util"), "rmtree removed everything")
print("OK")
