"""A full session with Python's ftplib against FtpGateway; exits non-zero on the first wrong answer.

usage: ftplib_scenario.py PORT USER PASSWORD {passive|active} {plain|tls|implicit}

implicit: implicit FTPS (TLS from the first byte, as on port 990); ftplib has no switch for it, so the
control socket is wrapped as soon as it is set.
"""
import ftplib
import hashlib
import io
import os
import sys

port, user, password, mode, security = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]


def check(condition, what):
    if not condition:
        print("FAILED: " + what, file=sys.stderr)
        sys.exit(1)


class ImplicitFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose control socket runs TLS before the greeting is read."""

    @property
    def sock(self):
        return self.__dict__.get("_implicit_sock")

    @sock.setter
    def sock(self, value):
        import ssl
        if value is not None and not isinstance(value, ssl.SSLSocket):
            value = self.context.wrap_socket(value, server_hostname=self.host)
        self.__dict__["_implicit_sock"] = value


if security in ("tls", "implicit"):
    import ssl
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    ftp = (ImplicitFTP_TLS if security == "implicit" else ftplib.FTP_TLS)(context=context, timeout=30)
else:
    ftp = ftplib.FTP(timeout=30)

# Behind the HA mode's per-pod Services the PASV address is not the control connection's; ftplib ignores PASV
# addresses unless told to trust them.
ftp.trust_server_pasv_ipv4_address = os.environ.get("FTPLIB_TRUST_PASV") == "1"
ftp.connect("127.0.0.1", port)
if security == "tls":
    ftp.auth()
if security == "implicit":
    check(isinstance(ftp.sock, ssl.SSLSocket), "the control connection runs TLS from the start")
ftp.login(user, password)
if security in ("tls", "implicit"):
    ftp.prot_p()
ftp.set_pasv(mode == "passive")

feat = ftp.sendcmd("FEAT")
check("MLST" in feat and "UTF8" in feat, "FEAT lists MLST and UTF8: " + feat)
check(ftp.sendcmd("OPTS UTF8 ON").startswith("200"), "OPTS UTF8 ON")

ftp.mkd("scenario")
ftp.cwd("scenario")
check(ftp.pwd() == "/scenario", "pwd after cwd")

payload = os.urandom(3 * 1024 * 1024 + 17)
check(ftp.storbinary("STOR blob.bin", io.BytesIO(payload)).startswith("226"), "STOR answered 226")
check(ftp.size("blob.bin") == len(payload), "SIZE matches")
got = io.BytesIO()
ftp.retrbinary("RETR blob.bin", got.write)
check(hashlib.sha256(got.getvalue()).digest() == hashlib.sha256(payload).digest(), "RETR returns the same bytes")

# Resume a download from an offset.
tail = io.BytesIO()
ftp.retrbinary("RETR blob.bin", tail.write, rest=1000000)
check(tail.getvalue() == payload[1000000:], "REST + RETR returns the tail")

# ASCII mode: lines go up with CRLF, are stored with LF, come back as lines.
ftp.storlines("STOR notes.txt", io.BytesIO(b"alpha\nbeta\ngamma\n"))
lines = []
ftp.retrlines("RETR notes.txt", lines.append)
check(lines == ["alpha", "beta", "gamma"], "retrlines: %r" % lines)
ftp.voidcmd("TYPE I")
check(ftp.size("notes.txt") == len(b"alpha\nbeta\ngamma\n"), "stored with LF endings")

# Listings, three ways.
names = sorted(ftp.nlst())
check(names == ["blob.bin", "notes.txt"], "nlst: %r" % names)
listing = []
ftp.retrlines("LIST", listing.append)
check(len(listing) == 2 and all(l[0] == "-" for l in listing), "LIST: %r" % listing)
facts = dict(ftp.mlsd())
check(facts["blob.bin"]["type"] == "file" and int(facts["blob.bin"]["size"]) == len(payload), "MLSD facts: %r" % facts)

# Unicode names (RFC 2640).
ftp.storbinary("STOR Grüße 日本.txt", io.BytesIO(b"unicode"))
check("Grüße 日本.txt" in ftp.nlst(), "UTF-8 name listed")

# Rename, delete, remove directory.
ftp.rename("blob.bin", "renamed.bin")
check("renamed.bin" in ftp.nlst() and "blob.bin" not in ftp.nlst(), "rename")
try:
    ftp.rmd("/scenario")
    check(False, "RMD of a non-empty directory must fail")
except ftplib.error_perm as e:
    check(str(e).startswith("550"), "RMD non-empty is 550: %s" % e)
for name in ftp.nlst():
    ftp.delete(name)
ftp.cwd("/")
ftp.rmd("scenario")
check("scenario" not in ftp.nlst(), "directory removed")

# Errors are permanent replies with the right codes, and the session survives them.
try:
    ftp.retrbinary("RETR does-not-exist", lambda b: None)
    check(False, "RETR of a missing file must fail")
except ftplib.error_perm as e:
    check(str(e).startswith("550"), "missing file is 550: %s" % e)

# ABOR of a running download: ftplib sends ABOR with MSG_OOB and expects 426/225/226.
ftp.storbinary("STOR big.bin", io.BytesIO(b"\0" * (32 * 1024 * 1024)))
conn = ftp.transfercmd("RETR big.bin")
conn.recv(1024)
reply = ftp.abort()
conn.close()
check(reply[:3] in ("225", "226", "426"), "abort reply: %s" % reply)
if reply.startswith("426"):
    # RFC 959 4.1.3: 426 for the transfer, then 226 for the ABOR; ftplib reads only the first.
    check(ftp.getresp().startswith("226"), "226 follows 426 after ABOR")
check(ftp.pwd() == "/", "session usable after ABOR")
ftp.delete("big.bin")
ftp.quit()
print("OK")
