using System.Diagnostics;
using System.Net;
using FtpGateway.TestSupport;

namespace FtpGateway.Benchmarks;

/// <summary>
/// Two gateways as a fleet (Ftp:Relay, ports owned by ordinal) on 127.0.0.11 and .12, sharing one disk root: a
/// large STOR and RETR with curl through a data connection that reaches the owner directly (EPSV to the control
/// address) beside one that reaches the other gateway and is relayed (PASV announcing the other gateway's address,
/// which curl is told to use), and the relaying gateway's CPU per GiB.
/// </summary>
internal static class RelayBenchmark
{
    private const string User = "bench";
    private const string Password = "bench-pw-1";
    private const int PortsPerGateway = 10;

    public static async Task RunAsync(Settings settings, Report report)
    {
        var work = Directory.CreateDirectory(Path.Combine(settings.Work, "relay")).FullName;
        Console.WriteLine($"Relay: a {settings.SizeMb} MiB STOR/RETR with curl, data connection relayed by a second gateway against direct");
        var data = Directory.CreateDirectory(Path.Combine(work, "data")).FullName;
        var port = FreePorts.One();
        var passive = FreePorts.Range(2 * PortsPerGateway);
        var relayPort = FreePorts.One();
        var secret = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        string[] fleet =
        [
            $"--Ftp:Port={port}", $"--Ftp:PassivePortRange={passive}-{passive + (2 * PortsPerGateway) - 1}", $"--Ftp:PassivePortsPerReplica={PortsPerGateway}",
            "--Ftp:Relay:Enabled=true", $"--Ftp:Relay:Secret={secret}", $"--Ftp:Relay:Port={relayPort}",
            "--Ftp:Relay:PeerAddresses:0=127.0.0.11", "--Ftp:Relay:PeerAddresses:1=127.0.0.12",
            $"--Storage:FileSystem:Root={data}",
            $"--Users:0:Name={User}", $"--Users:0:Password={Password}", "--Logging:LogLevel:Default=Warning",
            "--Management:Port=0", "--Management:ListenAddress=127.0.0.1",
        ];

        // The owner announces the other gateway's address: a PASV data connection is always relayed.
        using var owner = Start([.. fleet, "--Ftp:Replica=gw-0", "--Ftp:ListenAddress=127.0.0.11", "--Ftp:PublicAddress=127.0.0.12"]);
        using var relay = Start([.. fleet, "--Ftp:Replica=gw-1", "--Ftp:ListenAddress=127.0.0.12", "--Ftp:PublicAddress=127.0.0.12"]);
        await FreePorts.WaitForListenerAsync(port, TimeSpan.FromSeconds(30), null, IPAddress.Parse("127.0.0.11"));
        await FreePorts.WaitForListenerAsync(port, TimeSpan.FromSeconds(30), null, IPAddress.Parse("127.0.0.12"));

        var url = $"ftp://{User}:{Password}@127.0.0.11:{port}";
        string[] direct = ["-sS"]; // EPSV: the data connection goes to the control address, the owner
        string[] relayed = ["-sS", "--disable-epsv", "--no-ftp-skip-pasv-ip"]; // PASV, to the address it announces: the other gateway
        var size = new FileInfo(settings.BigFile).Length;
        var relayCpu = 0.0;
        var relayedBytes = 0L;
        async Task<double> Relayed(Func<Task<double>> transfer)
        {
            var before = ProcessCpu.Seconds(relay.Id);
            var rate = await transfer();
            relayCpu += ProcessCpu.Seconds(relay.Id) - before;
            relayedBytes += size;
            return rate;
        }

        // Each upload into a free name, from a synced disk, as FtpWorkloads.StorAsync does for the other sections.
        async Task Fresh(string name)
        {
            await FtpWorkloads.SyncAsync();
            File.Delete(Path.Combine(data, name));
        }

        var stor = await Rounds.MedianAsync("relayed STOR", settings.Runs,
            async () =>
            {
                await Fresh("relayed.bin");
                return await Relayed(async () => size / 1e6 / await Curl.TimeAsync([.. relayed, "-T", settings.BigFile, $"{url}/relayed.bin"]));
            },
            async () =>
            {
                await Fresh("direct.bin");
                return size / 1e6 / await Curl.TimeAsync([.. direct, "-T", settings.BigFile, $"{url}/direct.bin"]);
            });
        report.Add(new Row("relay", $"STOR {settings.SizeMb} MiB, relayed", "MB/s", stor.Gateway, "the same, direct", stor.Peer, Better.Higher, 0.8));
        var retr = await Rounds.MedianAsync("relayed RETR", settings.Runs,
            () => Relayed(async () => size / 1e6 / await Curl.TimeAsync([.. relayed, "-o", "/dev/null", $"{url}/relayed.bin"])),
            async () => size / 1e6 / await Curl.TimeAsync([.. direct, "-o", "/dev/null", $"{url}/direct.bin"]));
        report.Add(new Row("relay", $"RETR {settings.SizeMb} MiB, relayed", "MB/s", retr.Gateway, "the same, direct", retr.Peer, Better.Higher, 0.8));
        report.Figure("relay", "CPU of the relaying gateway", Report.Invariant($"{relayCpu / (relayedBytes / (1024.0 * 1024 * 1024)):F2} s per GiB relayed"));
        owner.Kill(entireProcessTree: true);
        relay.Kill(entireProcessTree: true);
    }

    private static Process Start(string[] arguments)
    {
        var start = Servers.GatewayStart();
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }
}
