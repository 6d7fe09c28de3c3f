using System.Diagnostics;

namespace FtpGateway.TestSupport;

/// <summary>
/// Azurite (Microsoft's Azure Storage emulator, from npm) serving blobs in memory on a free loopback port.
/// Installed into tests/tools by tests/run-all.sh, or here on first use. Disposed, it stops.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    // The emulator's published well-known development account.
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;

    private AzuriteServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The emulator's process (node), for the benchmark's CPU accounting.</summary>
    public int ProcessId => _process.Id;

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";

    public static async Task<AzuriteServer> StartAsync()
    {
        var main = await LocateAsync();
        var port = FreePorts.One();
        var start = new ProcessStartInfo(ExternalProcess.Require("node")) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
        {
            main, "--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--silent",
        })
        {
            start.ArgumentList.Add(a);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await FreePorts.WaitForListenerAsync(port, TimeSpan.FromSeconds(20), () => process.HasExited ? $"Azurite exited with {process.ExitCode}" : null);
        return new AzuriteServer(process, port);
    }

    /// <summary>Stops the emulator (the store "goes away"), for fault-injection tests.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    private static async Task<string> LocateAsync() =>
        Path.Combine(await TestTools.NodeToolsAsync(), "node_modules", "azurite", "dist", "src", "blob", "main.js");

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }
}
