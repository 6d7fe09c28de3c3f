using System.Net.Sockets;
using System.Text;

namespace FtpGateway.TestSupport;

/// <summary>
/// What many devices do: close the data connection of an upload and at once send the next command (NOOP, or
/// QUIT), then read the replies. The command's bytes arrive while the gateway is deciding whether the client is
/// still there; a client that is still connected must never be taken for gone.
/// </summary>
public static class UploadThenCommandRace
{
    /// <summary>
    /// <paramref name="uploads"/> uploads over <paramref name="sessions"/> sessions at once, each followed at once by
    /// NOOP; returns the replies that were not the expected 226 + 200 (empty when every upload was answered 226).
    /// </summary>
    public static async Task<IReadOnlyList<string>> WithNoopAsync(int port, int uploads, int sessions, string user = TestServer.UserName, string password = TestServer.Password)
    {
        var failures = new List<string>();
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(async worker =>
        {
            await using var client = await RawFtpClient.LoginAsync(port, user, password);
            for (var i = worker; i < uploads; i += sessions)
            {
                var data = await client.OpenPassiveAsync();
                await client.ExpectAsync($"STOR race-{i}.bin", 150);
                await data.SendAsync(Encoding.ASCII.GetBytes($"upload {i}\n"));
                data.Shutdown(SocketShutdown.Send);
                data.Dispose();
                await client.SendRawAsync("NOOP\r\n"u8.ToArray());

                // NOOP runs during a transfer: its 200 may come before or after the transfer's reply.
                var replies = new[] { (await client.ReadReplyAsync()).Code, (await client.ReadReplyAsync()).Code };
                if (!replies.Contains(226) || !replies.Contains(200))
                {
                    lock (failures)
                    {
                        failures.Add($"upload {i}: {string.Join(", ", replies)}");
                    }
                }
            }
        }));
        return failures;
    }

    /// <summary>
    /// <paramref name="uploads"/> sessions (<paramref name="parallel"/> at once), each one upload whose data connection
    /// closes and is followed at once by QUIT; returns the sessions that were not answered 226 then 221.
    /// </summary>
    public static async Task<IReadOnlyList<string>> WithQuitAsync(int port, int uploads, int parallel, string user = TestServer.UserName, string password = TestServer.Password)
    {
        var failures = new List<string>();
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(async worker =>
        {
            for (var i = worker; i < uploads; i += parallel)
            {
                await using var client = await RawFtpClient.LoginAsync(port, user, password);
                var data = await client.OpenPassiveAsync();
                await client.ExpectAsync($"STOR quit-{i}.bin", 150);
                await data.SendAsync(Encoding.ASCII.GetBytes($"upload {i}\n"));
                data.Shutdown(SocketShutdown.Send);
                data.Dispose();
                await client.SendRawAsync("QUIT\r\n"u8.ToArray());
                var first = (await client.ReadReplyAsync()).Code;
                var second = (await client.ReadReplyAsync()).Code;
                if (first != 226 || second != 221)
                {
                    lock (failures)
                    {
                        failures.Add($"upload {i}: {first}, {second}");
                    }
                }
            }
        }));
        return failures;
    }
}
