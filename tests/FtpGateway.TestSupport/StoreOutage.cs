namespace FtpGateway.TestSupport;

/// <summary>The "storage dies mid-upload" scenario shared by the S3 and Azure end-to-end tests.</summary>
public static class StoreOutage
{
    /// <summary>
    /// Starts STOR of 40 MiB, cuts <paramref name="proxy"/> (the store) once <paramref name="cutAfterBytes"/>
    /// have reached it, and returns the transfer's final reply.
    /// </summary>
    public static async Task<WireReply> StoreWhileTheStoreDiesAsync(RawFtpClient client, string name, TcpProxy proxy, long cutAfterBytes)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(proxy);
        using var data = await client.OpenPassiveAsync();
        await client.ExpectAsync("STOR " + name, 150);
        var sending = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < 40; i++)
                {
                    await data.SendAsync(new byte[1024 * 1024]);
                }

                data.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            }
            catch (System.Net.Sockets.SocketException)
            {
                // The gateway gave up on the transfer and closed the data connection.
            }
        });
        while (proxy.BytesUp < cutAfterBytes)
        {
            await Task.Delay(20);
        }

        proxy.Cut();
        var final = await client.ReadReplyAsync(TimeSpan.FromSeconds(120)); // after the SDK's own retries
        await sending;
        return final;
    }
}
