"""A session with aioftp (an asyncio FTP client, from Debian's python3-aioftp); exits non-zero on the first
wrong answer. Run with Debian's /usr/bin/python3.

usage: aioftp_scenario.py PORT USER PASSWORD
"""
import asyncio
import os
import sys

import aioftp

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def check(condition, what):
    if not condition:
        print("FAILED: " + what, file=sys.stderr)
        sys.exit(1)


async def main():
    async with aioftp.Client.context("127.0.0.1", port, user, password) as client:
        await client.make_directory("aio/sub")
        payload = os.urandom(3 * 1024 * 1024 + 5)
        async with client.upload_stream("aio/sub/stream.bin") as stream:
            for i in range(0, len(payload), 65536):
                await stream.write(payload[i:i + 65536])
        info = await client.stat("aio/sub/stream.bin")
        check(int(info["size"]) == len(payload), "stat size: %r" % info)
        check(info["type"] == "file", "stat type: %r" % info)

        got = bytearray()
        async with client.download_stream("aio/sub/stream.bin") as stream:
            async for block in stream.iter_by_block():
                got.extend(block)
        check(bytes(got) == payload, "download returns the same bytes")

        listed = [(str(path), facts["type"]) for path, facts in await client.list("aio", recursive=True)]
        check(sorted(listed) == [("aio/sub", "dir"), ("aio/sub/stream.bin", "file")], "recursive list: %r" % listed)

        await client.rename("aio/sub/stream.bin", "aio/moved.bin")
        check(await client.exists("aio/moved.bin") and not await client.exists("aio/sub/stream.bin"), "rename")
        await client.remove("aio")
        check(not await client.exists("aio"), "remove is recursive")
    print("OK")


asyncio.run(main())
