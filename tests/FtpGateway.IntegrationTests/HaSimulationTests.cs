using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// A cloud L4 load balancer and kube-proxy, simulated: connections to a listening port on 127.0.0.1 are passed
/// on, byte for byte, to one of the backends — round robin for the control port (skipping a backend that refuses
/// connections, as a health-checked balancer does), and to the one pod for each port of a pod's own Service.
/// </summary>
internal sealed class L4Balancer : IAsyncDisposable
{
    private readonly List<Socket> _listeners = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private int _next;

    public void Forward(IPEndPoint listen, IReadOnlyList<IPEndPoint> backends)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(listen);
        listener.Listen(256);
        _listeners.Add(listener);
        _loops.Add(AcceptAsync(listener, backends));
    }

    private async Task AcceptAsync(Socket listener, IReadOnlyList<IPEndPoint> backends)
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

            _ = PassOnAsync(client, backends);
        }
    }

    private async Task PassOnAsync(Socket client, IReadOnlyList<IPEndPoint> backends)
    {
        var first = Interlocked.Increment(ref _next);
        for (var attempt = 0; attempt < backends.Count; attempt++)
        {
            var backend = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await backend.ConnectAsync(backends[(first + attempt) % backends.Count], _stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                backend.Dispose();
                continue; // that pod is gone or draining: the next one
            }

            await Task.WhenAll(PumpAsync(client, backend), PumpAsync(backend, client));
            client.Dispose();
            backend.Dispose();
            return;
        }

        client.Dispose();
    }

    /// <summary>Passes bytes from one socket to the other until it ends, then passes on the end (the balancers' one pump).</summary>
    internal static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            try
            {
                to.Shutdown(SocketShutdown.Both);
            }
            catch (Exception again) when (again is SocketException or ObjectDisposedException)
            {
            }
        }
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
/// The HA mode without a cluster: the chart rendered with three replicas, three gateway processes started with
/// exactly each pod's rendered environment on their own addresses, and an L4 balancer that spreads control
/// connections round robin and sends each pod Service's ports to its pod. Files go to radosgw.
/// </summary>
[Collection("S3")]
public sealed class HaSimulationTests(S3StoreFixture s3)
{
    [Fact]
    public async Task ThreePodsBehindARoundRobinBalancer_Serve50Sessions_AndASigtermedPodLosesNothing()
    {
        var prefix = "ha-" + Guid.NewGuid().ToString("N")[..8];
        var port = FreePorts.One();
        var passive = FreePorts.Range(60); // 20 per pod: enough for about 17 concurrent transfers each
        var chart = await HelmChart.RenderAsync("ha",
        [
            $"ftp.port={port}", $"ftp.passive.start={passive}", $"ftp.passive.end={passive + 59}", $"management.port={FreePorts.One()}",
            $"storage.s3.serviceUrl={s3.Server.ServiceUrl}", $"storage.s3.bucket={S3StoreFixture.Bucket}", $"storage.s3.prefix={prefix}",
            $"storage.s3.accessKey={RadosGateway.AccessKey}", $"storage.s3.secretKey={RadosGateway.SecretKey}",
            "ha.publicAddresses={127.0.0.21,127.0.0.22,127.0.0.23}", // each pod Service's load balancer has its own address
            "ftp.drainTimeoutSeconds=30",
        ]);

        var pods = new List<ChartPod>();
        await using var balancer = new L4Balancer();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                pods.Add(await ChartPod.StartAsync(chart, podName: $"{HelmChart.FullName}-{i}", address: $"127.0.0.{11 + i}"));
            }

            // kube-proxy: the control Service over all pods; each pod's Service to its pod, port for port.
            balancer.Forward(new IPEndPoint(IPAddress.Loopback, port), [.. pods.Select(p => new IPEndPoint(IPAddress.Parse(p.Address), port))]);
            var owner = new Dictionary<int, int>();
            for (var i = 0; i < 3; i++)
            {
                foreach (var p in chart.Get("Service", $"{HelmChart.FullName}-{i}").GetProperty("spec").GetProperty("ports").EnumerateArray().Select(p => p.GetProperty("port").GetInt32()))
                {
                    balancer.Forward(new IPEndPoint(IPAddress.Parse($"127.0.0.{21 + i}"), p), [new IPEndPoint(IPAddress.Parse(pods[i].Address), p)]);
                    owner[p] = i;
                }
            }

            // 50 concurrent sessions of real clients (a raw client, curl, lftp, Python's ftplib), both passive modes,
            // uploads and downloads.
            var sessions = Enumerable.Range(0, 50).Select(async n =>
            {
                var content = RandomNumberGenerator.GetBytes(200_000 + n);
                // EPSV is refused (502) in the HA mode: the raw client uses PASV, the others fall back on their own.
                var mode = DataMode.Pasv;
                if (n == 1)
                {
                    // Python's ftplib: a whole session (MKD, transfers, listings, rename, ABOR) through the balancer.
                    var python = await ExternalProcess.RunAsync(ExternalProcess.Require("python3"),
                        [Path.Combine(AppContext.BaseDirectory, "clients", "ftplib_scenario.py"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), "cam01", "chart-ci-camera", "passive", "plain"],
                        environment: new Dictionary<string, string?> { ["FTPLIB_TRUST_PASV"] = "1" });
                    Assert.True(python.ExitCode == 0, python.ToString());
                }

                if (n % 10 == 3)
                {
                    using var work = new TempDirectory();
                    await File.WriteAllBytesAsync(work.File("f.bin"), content);
                    var lftp = await ExternalProcess.RunAsync(ExternalProcess.Require("lftp"),
                    [
                        "-c",
                        $"set net:max-retries 3; set net:reconnect-interval-base 1; set ftp:passive-mode on; set ftp:prefer-epsv {(n % 20 == 3 ? "yes" : "no")}; " +
                        $"open -u cam01,chart-ci-camera ftp://127.0.0.1:{port}; put {work.File("f.bin")} -o s{n}.bin; get s{n}.bin -o {work.File("back.bin")}",
                    ]);
                    Assert.True(lftp.ExitCode == 0, lftp.ToString());
                    Assert.Equal(content, await File.ReadAllBytesAsync(work.File("back.bin")));
                    return content;
                }
                if (n % 10 == 9)
                {
                    using var work = new TempDirectory();
                    await File.WriteAllBytesAsync(work.File("f.bin"), content);
                    var curl = ExternalProcess.Require("curl");
                    var up = await ExternalProcess.RunAsync(curl, ["-sS", "--max-time", "60", "--no-ftp-skip-pasv-ip", n % 20 == 9 ? "--disable-epsv" : "--ftp-pasv", "-T", work.File("f.bin"), $"ftp://cam01:chart-ci-camera@127.0.0.1:{port}/s{n}.bin"]);
                    Assert.True(up.ExitCode == 0, up.ToString());
                    var down = await ExternalProcess.RunAsync(curl, ["-sS", "--max-time", "60", "--no-ftp-skip-pasv-ip", "-o", work.File("back.bin"), $"ftp://cam01:chart-ci-camera@127.0.0.1:{port}/s{n}.bin"]);
                    Assert.True(down.ExitCode == 0, down.ToString());
                    Assert.Equal(content, await File.ReadAllBytesAsync(work.File("back.bin")));
                    return content;
                }

                await using var c = await RawFtpClient.LoginAsync(port, "cam01", "chart-ci-camera");
                Assert.Equal(226, (await c.UploadAsync($"STOR s{n}.bin", content, mode)).Code);
                var (back, final) = await c.DownloadAsync($"RETR s{n}.bin", mode);
                Assert.Equal(226, final.Code);
                Assert.Equal(content, back);
                return content;
            }).ToList();
            var uploaded = await Task.WhenAll(sessions);
            for (var n = 0; n < 50; n++)
            {
                using var stored = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, $"{prefix}/s{n}.bin");
                Assert.Equal(uploaded[n].Length, stored.ContentLength);
            }

            // SIGTERM to pod 1 while uploads run on every pod: its transfers finish, new sessions go elsewhere.
            var running = new List<(RawFtpClient Client, Socket Data, byte[] Content, int Pod, string Name)>();
            for (var n = 0; running.Select(r => r.Pod).Distinct().Count() < 3 || !running.Any(r => r.Pod == 1); n++)
            {
                Assert.True(n < 30, "the balancer never spread the sessions over all three pods");
                var c = await RawFtpClient.LoginAsync(port, "cam01", "chart-ci-camera");
                await c.ExpectAsync("EPSV", 502);
                var pasv = await c.ExpectAsync("PASV", 227);
                var numbers = pasv.Message[(pasv.Message.IndexOf('(', StringComparison.Ordinal) + 1)..pasv.Message.IndexOf(')', StringComparison.Ordinal)].Split(',').Select(int.Parse).ToArray();
                var dataPort = (numbers[4] * 256) + numbers[5];
                var advertised = IPAddress.Parse(string.Join('.', numbers[..4]));
                Assert.Equal(IPAddress.Parse($"127.0.0.{21 + owner[dataPort]}"), advertised); // each pod announces its own Service
                var data = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await data.ConnectAsync(advertised, dataPort);
                await c.ExpectAsync($"STOR drain-{n}.bin", 150);
                var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
                await data.SendAsync(content.AsMemory(0, 1024 * 1024));
                running.Add((c, data, content, owner[dataPort], $"drain-{n}.bin"));
            }

            var kill = await ExternalProcess.RunAsync("kill", ["-TERM", pods[1].Process.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            Assert.Equal(0, kill.ExitCode);
            await pods[1].Process.WaitForOutputAsync("Draining");

            // New sessions while pod 1 drains: the balancer finds its listener closed and uses the others.
            for (var n = 0; n < 6; n++)
            {
                await using var fresh = await RawFtpClient.LoginAsync(port, "cam01", "chart-ci-camera");
                Assert.Equal(226, (await fresh.UploadAsync($"STOR during-{n}.bin", [1, 2, 3], DataMode.Pasv)).Code);
            }

            foreach (var (client, data, content, pod, name) in running)
            {
                await data.SendAsync(content.AsMemory(1024 * 1024));
                data.Shutdown(SocketShutdown.Send);
                data.Dispose();
                Assert.Equal(226, (await client.ReadReplyAsync()).Code);
                if (pod == 1)
                {
                    Assert.Equal(421, (await client.ReadReplyAsync()).Code); // drained: told, then closed
                }

                await client.DisposeAsync();
                using var stored = await s3.Client.GetObjectAsync(S3StoreFixture.Bucket, $"{prefix}/{name}");
                Assert.Equal(content.Length, stored.ContentLength);
            }

            Assert.Equal(0, await pods[1].Process.WaitForExitAsync(TimeSpan.FromSeconds(60))); // exited cleanly after its drain
        }
        finally
        {
            foreach (var pod in pods)
            {
                await pod.DisposeAsync();
            }
        }
    }
}
