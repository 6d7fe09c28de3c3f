using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Sessions;

/// <summary>
/// How sessions leave the registry: an idle session waits for its next command without a cancellation token, so
/// whatever ends it must end that wait, and every session, however short, is removed once it ends.
/// </summary>
public sealed class SessionEndTests
{
    [Fact]
    public async Task ASessionTheDrainCouldNotClose_IsCutOffAtTheStop_ItsIdleWaitEnds_AndItEndsAsServerShutdown()
    {
        using var telemetry = new FtpTelemetry();
        var ended = new ConcurrentDictionary<string, long>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == telemetry.Meter && instrument.Name == "ftpgateway.sessions")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                ended.AddOrUpdate((string)tag.Value!, value, (_, v) => v + value);
            }
        });
        meters.Start();

        await using var server = await TestServer.StartAsync(o => o.DrainTimeout = TimeSpan.FromMilliseconds(500), telemetry: telemetry);
        await using var client = await RawFtpClient.LoginAsync(server.Port);
        using var data = await client.OpenPassiveAsync();
        await client.ExpectAsync("STOR never-finished.bin", 150);
        await data.SendAsync(new byte[10_000]); // and never finishes: the drain gives up, the stop cuts it off

        // While the upload runs, the command loop waits for the next command; only the stop's shutdown ends it.
        await server.Server.StopAsync(CancellationToken.None);

        Assert.True(await client.IsClosedByServerAsync());
        await Poll.UntilAsync(() => ended.GetValueOrDefault("ServerShutdown") == 1, "the session to end as ServerShutdown");
        Assert.Equal(0, server.ActiveSessions);
        Assert.False(File.Exists(server.Root.File("never-finished.bin")));
    }

    [Fact]
    public async Task ConnectionsClosedRightAfterTheGreeting_LeaveNoSessionBehind()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxSessionsPerAddress = 5); // a slot never given back would show
        for (var i = 0; i < 200; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, server.Port);
            socket.Close(); // the session ends as soon as it starts, while others are being admitted
        }

        await Poll.UntilAsync(() => server.ActiveSessions == 0, "every session to leave the registry");

        // Every slot was given back: the address's five sessions can be held at once. The registry can read empty
        // before the server has accepted the last of the closed connections, which then hold a slot for a moment
        // (and a refused login gets 421), so the five logins are tried until they all get in; a slot never given
        // back keeps one of them out for good.
        await Poll.UntilAsync(async () =>
        {
            var clients = new List<RawFtpClient>();
            try
            {
                for (var i = 0; i < 5; i++)
                {
                    var client = await RawFtpClient.ConnectAsync(server.Port);
                    clients.Add(client);
                    if (client.Greeting.Code != 220 || (await client.SendAsync("USER " + TestServer.UserName)).Code != 331
                        || (await client.SendAsync("PASS " + TestServer.Password)).Code != 230)
                    {
                        return false;
                    }
                }

                return (await clients[^1].SendAsync("NOOP")).Code == 200;
            }
            finally
            {
                foreach (var client in clients)
                {
                    await client.DisposeAsync();
                }
            }
        }, "the address's five sessions to be let in at once");
    }
}
