using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// One load balancer in front of every gateway, as a cloud L4 balancer without affinity is: every connection —
/// control or data, any port — goes to a random running backend (a backend that refuses is skipped, as a
/// health-checked balancer does), with a PROXY protocol v2 header that carries the client's address.
/// </summary>
internal sealed class ProxyBalancer : IAsyncDisposable
{
    private readonly List<Socket> _listeners = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly List<IPAddress> _backends = [];

    public void AddBackend(IPAddress backend)
    {
        lock (_backends)
        {
            _backends.Add(backend);
        }
    }

    /// <summary>Listens on <paramref name="address"/> for each port; each port goes to the same port of a backend.</summary>
    public void Listen(IPAddress address, IEnumerable<int> ports)
    {
        foreach (var port in ports)
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(address, port));
            listener.Listen(512);
            _listeners.Add(listener);
            _loops.Add(AcceptAsync(listener));
        }
    }

    private async Task AcceptAsync(Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = PassOnAsync(client);
        }
    }

    private async Task PassOnAsync(Socket client)
    {
        List<IPAddress> order;
        lock (_backends)
        {
            order = [.. _backends.OrderBy(_ => RandomNumberGenerator.GetInt32(1000))];
        }

        var local = (IPEndPoint)client.LocalEndPoint!;
        foreach (var address in order)
        {
            var backend = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                backend.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // the balancer's own address: the trusted proxy
                await backend.ConnectAsync(new IPEndPoint(address, local.Port), _stop.Token);
                await backend.SendAsync(ProxyV2((IPEndPoint)client.RemoteEndPoint!, local));
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                backend.Dispose();
                continue; // that gateway is gone or draining: the next one
            }

            await Task.WhenAll(L4Balancer.PumpAsync(client, backend), L4Balancer.PumpAsync(backend, client));
            client.Dispose();
            backend.Dispose();
            return;
        }

        client.Dispose();
    }

    private static byte[] ProxyV2(IPEndPoint source, IPEndPoint destination)
    {
        var header = new byte[28];
        new byte[] { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A }.CopyTo(header, 0);
        header[12] = 0x21; // version 2, PROXY
        header[13] = 0x11; // TCP over IPv4
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), 12);
        source.Address.MapToIPv4().GetAddressBytes().CopyTo(header, 16);
        destination.Address.MapToIPv4().GetAddressBytes().CopyTo(header, 20);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(24), (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(26), (ushort)destination.Port);
        return header;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listeners.ForEach(l => l.Dispose());
        await Task.WhenAll(_loops);
        _stop.Dispose();
    }
}

/// <summary>
/// Many pods as one gateway, without a cluster: the chart rendered in the sharedAddress HA mode, gateway processes
/// started with exactly each pod's rendered environment on their own addresses (127.0.0.11, .12, ...), Debian's
/// redis-server as the shared state, radosgw as the store, and one <see cref="ProxyBalancer"/> that sends every
/// connection to a random gateway. Only what this machine cannot do is changed in the pods' environment: peers are
/// found by address (Ftp:Relay:PeerAddresses) instead of the headless Service's DNS names.
/// </summary>
[Collection("S3")]
public sealed class FleetSimulationTests(S3StoreFixture s3)
{
    private const string Camera = "cam01";
    private const string CameraPassword = "chart-ci-camera";
    private const int MaxPods = 4;
    private const int PortsPerPod = 40;

    [Fact]
    public async Task FourGatewaysBehindOneBalancerWithoutAffinity_BehaveAsOne()
    {
        await using var redis = await RedisServer.StartAsync();
        var prefix = "fleet-" + Guid.NewGuid().ToString("N")[..8];
        var port = FreePorts.One();
        var passive = FreePorts.Range(MaxPods * PortsPerPod);
        var chart = await HelmChart.RenderAsync("ha-shared",
        [
            $"ftp.port={port}", $"ftp.passive.start={passive}", $"ftp.passive.end={passive + (MaxPods * PortsPerPod) - 1}", $"ftp.passive.portsPerReplica={PortsPerPod}",
            $"management.port={FreePorts.One()}", $"ha.relay.port={FreePorts.One()}", $"ha.maxReplicas={MaxPods}", "ha.autoscaling.enabled=false", "replicaCount=3",
            "ftp.passive.publicAddress=127.0.0.1", "ftp.proxyProtocol.trustedProxies={127.0.0.1/32}",
            $"storage.s3.serviceUrl={s3.Server.ServiceUrl}", $"storage.s3.bucket={S3StoreFixture.Bucket}", $"storage.s3.prefix={prefix}",
            $"storage.s3.accessKey={RadosGateway.AccessKey}", $"storage.s3.secretKey={RadosGateway.SecretKey}",
            "usersFile.enabled=true", "usersFile.users[0].name=nvr", $"usersFile.users[0].passwordHash={FtpGateway.Ftp.Users.PasswordHasher.Hash("nvr-pw", 10_000)}", "usersFile.users[0].maxSessions=2",
            "ftp.drainTimeoutSeconds=30",
        ]);
        var secrets = new Dictionary<string, Dictionary<string, string>> { ["ftp-gateway-redis"] = new() { ["configuration"] = redis.Configuration } };
        var overrides = new Dictionary<string, string> { ["Ftp__Relay__PeerHost"] = string.Empty };
        for (var i = 0; i < MaxPods; i++)
        {
            overrides[$"Ftp__Relay__PeerAddresses__{i}"] = PodAddress(i);
        }

        var pods = new ChartPod?[MaxPods];
        await using var balancer = new ProxyBalancer();
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 3).Select(async i =>
                pods[i] = await ChartPod.StartAsync(chart, secrets, podName: $"{HelmChart.FullName}-{i}", address: PodAddress(i), overrides: overrides)));
            for (var i = 0; i < 3; i++)
            {
                balancer.AddBackend(IPAddress.Parse(PodAddress(i)));
            }

            balancer.Listen(IPAddress.Loopback, [port, .. Enumerable.Range(passive, MaxPods * PortsPerPod)]);
            await Poll.UntilAsync(() => pods.Take(3).All(p => p!.Output.Contains("Shared state: connected", StringComparison.Ordinal)), "every gateway connected to Redis");

            // 60 concurrent sessions of real clients with their defaults (curl: EPSV first, the PASV address ignored;
            // Python's ftplib: PASV, its address ignored; lftp; a raw PASV and EPSV client), every file whole.
            await Task.WhenAll(Enumerable.Range(0, 60).Select(n => SessionAsync(port, n)));
            for (var n = 0; n < 60; n++)
            {
                using var stored = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, $"{prefix}/s{n}.bin");
                Assert.Equal(Content(n).Length, stored.ContentLength);
            }

            Assert.All(pods.Take(3), p => Assert.Contains("Session started", p!.Output, StringComparison.Ordinal));

            // 10 wrong passwords from one client, spread by the balancer over the gateways, ban it at every one.
            var attacker = IPAddress.Parse("127.0.0.7");
            await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => WrongPasswordAsync(port, attacker)));
            for (var i = 0; i < 3; i++)
            {
                await Poll.UntilAsync(async () => await GreetingAsync(PodAddress(i), port, attacker) == 421, $"the ban at gateway {i}", TimeSpan.FromSeconds(2));
            }

            // A user with maxSessions 2: two sessions on gateway 0, the third on gateway 1 is refused.
            var nvrClient = IPAddress.Parse("127.0.0.8");
            await using var nvr1 = await DirectLoginAsync(PodAddress(0), port, nvrClient);
            await using var nvr2 = await DirectLoginAsync(PodAddress(0), port, nvrClient);
            await using (var third = await RawFtpClient.ConnectAsync(port, IPAddress.Parse(PodAddress(1)), from: nvrClient))
            {
                await third.ExpectAsync("USER nvr", 331);
                var refused = await third.SendAsync("PASS nvr-pw");
                Assert.Equal(421, refused.Code);
                Assert.Contains("Too many sessions for user nvr", refused.Text, StringComparison.Ordinal);
            }

            // A fourth gateway joins without restarting the others (its ports were always its own) and serves sessions.
            pods[3] = await ChartPod.StartAsync(chart, secrets, podName: $"{HelmChart.FullName}-3", address: PodAddress(3), overrides: overrides);
            balancer.AddBackend(IPAddress.Parse(PodAddress(3)));
            for (var n = 100; !pods[3]!.Output.Contains("Session started", StringComparison.Ordinal); n++)
            {
                Assert.True(n < 160, "the balancer never sent a session to the fourth gateway");
                await SessionAsync(port, n, rawOnly: true);
            }

            // SIGTERM to gateway 1 while uploads run on it: they finish; new sessions go to the others.
            var running = new List<(RawFtpClient Client, Socket Data, byte[] Content, string Name)>();
            for (var n = 0; running.Count < 2; n++)
            {
                Assert.True(n < 60, "the balancer never sent a session to gateway 1");
                var c = await RawFtpClient.LoginAsync(port, Camera, CameraPassword);
                var pasv = await c.ExpectAsync("PASV", 227);
                var numbers = pasv.Message[(pasv.Message.IndexOf('(', StringComparison.Ordinal) + 1)..pasv.Message.IndexOf(')', StringComparison.Ordinal)].Split(',').Select(int.Parse).ToArray();
                var dataPort = (numbers[4] * 256) + numbers[5];
                if ((dataPort - passive) / PortsPerPod != 1)
                {
                    await c.DisposeAsync(); // another gateway's session
                    continue;
                }

                var data = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await data.ConnectAsync(IPAddress.Loopback, dataPort); // through the balancer: any gateway, relayed to gateway 1
                await c.ExpectAsync($"STOR drain-{n}.bin", 150);
                var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
                await data.SendAsync(content.AsMemory(0, 1024 * 1024));
                running.Add((c, data, content, $"drain-{n}.bin"));
            }

            var kill = await ExternalProcess.RunAsync("kill", ["-TERM", pods[1]!.Process.ProcessId.ToString(CultureInfo.InvariantCulture)]);
            Assert.Equal(0, kill.ExitCode);
            await pods[1]!.Process.WaitForOutputAsync("Draining");
            await Task.WhenAll(Enumerable.Range(200, 8).Select(n => SessionAsync(port, n, rawOnly: true)));
            foreach (var (client, data, content, name) in running)
            {
                await data.SendAsync(content.AsMemory(1024 * 1024));
                data.Shutdown(SocketShutdown.Send);
                data.Dispose();
                Assert.Equal(226, (await client.ReadReplyAsync()).Code);
                Assert.Equal(421, (await client.ReadReplyAsync()).Code); // drained: told, then closed
                await client.DisposeAsync();
                using var stored = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, $"{prefix}/{name}");
                Assert.Equal(content.Length, stored.ContentLength);
            }

            Assert.Equal(0, await pods[1]!.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));

            // Redis stops while sessions run: no transfer fails and logins keep working.
            var duringOutage = Enumerable.Range(300, 12).Select(n => SessionAsync(port, n, rawOnly: n % 2 == 0)).ToList();
            await redis.StopAsync();
            await Task.WhenAll(duringOutage);
            foreach (var i in new[] { 0, 2, 3 })
            {
                await pods[i]!.Process.WaitForOutputAsync("is unreachable");
            }

            await Task.WhenAll(Enumerable.Range(400, 6).Select(n => SessionAsync(port, n, rawOnly: true)));

            // Redis is back: a ban after that is shared again.
            await redis.StartAgainAsync();
            foreach (var i in new[] { 0, 2, 3 })
            {
                await pods[i]!.Process.WaitForOutputAsync("is back; bans made meanwhile");
            }

            var second = IPAddress.Parse("127.0.0.9");
            await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => WrongPasswordAsync(port, second)));
            foreach (var i in new[] { 0, 2, 3 })
            {
                await Poll.UntilAsync(async () => await GreetingAsync(PodAddress(i), port, second) == 421, $"the ban at gateway {i} after Redis came back", TimeSpan.FromSeconds(2));
            }
        }
        finally
        {
            foreach (var pod in pods)
            {
                if (pod is not null)
                {
                    await pod.DisposeAsync();
                }
            }
        }
    }

    private static string PodAddress(int ordinal) => $"127.0.0.{11 + ordinal}";

    private static byte[] Content(int n)
    {
        var content = new byte[150_000 + n];
        new Random(n).NextBytes(content);
        return content;
    }

    /// <summary>One client's session through the balancer: upload a file and download it again, compared.</summary>
    private static async Task SessionAsync(int port, int n, bool rawOnly = false)
    {
        var content = Content(n);
        var kind = rawOnly ? (n % 2 == 0 ? "raw-pasv" : "raw-epsv") : (n % 5) switch
        {
            0 => "curl",
            1 => "lftp",
            2 => "ftplib",
            3 => "raw-pasv",
            _ => "raw-epsv",
        };
        if (kind is "raw-pasv" or "raw-epsv")
        {
            await using var c = await RawFtpClient.LoginAsync(port, Camera, CameraPassword);
            var mode = kind == "raw-pasv" ? DataMode.Pasv : DataMode.Epsv;
            Assert.Equal(226, (await c.UploadAsync($"STOR s{n}.bin", content, mode)).Code);
            var (back, final) = await c.DownloadAsync($"RETR s{n}.bin", mode);
            Assert.Equal(226, final.Code);
            Assert.Equal(content, back);
            return;
        }

        using var work = new TempDirectory();
        await File.WriteAllBytesAsync(work.File("f.bin"), content);
        var at = port.ToString(CultureInfo.InvariantCulture);
        switch (kind)
        {
            case "curl":
            {
                var curl = ExternalProcess.Require("curl");
                var up = await ExternalProcess.RunAsync(curl, ["-sS", "--max-time", "60", "-T", work.File("f.bin"), $"ftp://{Camera}:{CameraPassword}@127.0.0.1:{at}/s{n}.bin"]);
                Assert.True(up.ExitCode == 0, up.ToString());
                var down = await ExternalProcess.RunAsync(curl, ["-sS", "--max-time", "60", "-o", work.File("back.bin"), $"ftp://{Camera}:{CameraPassword}@127.0.0.1:{at}/s{n}.bin"]);
                Assert.True(down.ExitCode == 0, down.ToString());
                break;
            }

            case "lftp":
            {
                var lftp = await ExternalProcess.RunAsync(ExternalProcess.Require("lftp"),
                [
                    "-c",
                    $"set net:max-retries 2; set ftp:prefer-epsv {(n % 2 == 0 ? "yes" : "no")}; open -u {Camera},{CameraPassword} ftp://127.0.0.1:{at}; " +
                    $"put {work.File("f.bin")} -o s{n}.bin; get s{n}.bin -o {work.File("back.bin")}",
                ]);
                Assert.True(lftp.ExitCode == 0, lftp.ToString());
                break;
            }

            default:
            {
                var script = $"""
                    import ftplib
                    ftp = ftplib.FTP()
                    ftp.connect("127.0.0.1", {at}, timeout=60)
                    ftp.login("{Camera}", "{CameraPassword}")
                    with open("{work.File("f.bin")}", "rb") as f:
                        ftp.storbinary("STOR s{n}.bin", f)
                    with open("{work.File("back.bin")}", "wb") as f:
                        ftp.retrbinary("RETR s{n}.bin", f.write)
                    ftp.quit()
                    """;
                var python = await ExternalProcess.RunAsync(ExternalProcess.Require("python3"), ["-c", script]);
                Assert.True(python.ExitCode == 0, python.ToString());
                break;
            }
        }

        Assert.Equal(content, await File.ReadAllBytesAsync(work.File("back.bin")));
    }

    private static async Task WrongPasswordAsync(int port, IPAddress from)
    {
        await using var c = await RawFtpClient.ConnectAsync(port, IPAddress.Loopback, from: from);
        if (c.Greeting.Code != 220)
        {
            return; // banned already
        }

        await c.ExpectAsync($"USER {Camera}", 331);
        Assert.Contains((await c.SendAsync("PASS wrong")).Code, new[] { 530, 421 });
    }

    /// <summary>The greeting a gateway gives a client that connects to it directly (not through the balancer).</summary>
    private static async Task<int> GreetingAsync(string gateway, int port, IPAddress from)
    {
        await using var c = await RawFtpClient.ConnectAsync(port, IPAddress.Parse(gateway), from: from);
        return c.Greeting.Code;
    }

    private static async Task<RawFtpClient> DirectLoginAsync(string gateway, int port, IPAddress from)
    {
        var c = await RawFtpClient.ConnectAsync(port, IPAddress.Parse(gateway), from: from);
        await c.ExpectAsync("USER nvr", 331);
        await c.ExpectAsync("PASS nvr-pw", 230);
        return c;
    }
}
