using System.Globalization;
using System.Net;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// The gateway's container from a chart rendering, run here as the kubelet would run it: the real gateway
/// executable with exactly the pod's environment (nothing on the command line), its volumes as directories
/// (a Secret volume holds the Secret's keys as files), its ports, probes and termination grace period.
/// This machine stands in for the pod's network namespace, so the gateway listens on loopback only.
/// </summary>
internal sealed class ChartPod : IAsyncDisposable
{
    private readonly RunningGateway _process;
    private readonly TempDirectory _volumes;
    private readonly Dictionary<string, string> _volumeDirectories;

    private ChartPod(RenderedChart chart, RunningGateway process, TempDirectory volumes, Dictionary<string, string> volumeDirectories)
    {
        Chart = chart;
        _process = process;
        _volumes = volumes;
        _volumeDirectories = volumeDirectories;
    }

    public RenderedChart Chart { get; }

    public int FtpPort => Chart.ContainerPort("ftp");

    public string Output => _process.Output;

    /// <summary>The directory standing in for a volume of the pod.</summary>
    public string Volume(string name) => _volumeDirectories[name];

    /// <param name="chart">the rendered chart whose pod is run.</param>
    /// <param name="existingSecrets">the contents of Secrets the chart only names (an existingSecret).</param>
    /// <param name="podName">the pod's name (a StatefulSet's pods are <c>name-0</c>, <c>name-1</c>, ...).</param>
    /// <param name="address">the pod's own address (several pods on this machine: 127.0.0.11, .12, ...).</param>
    /// <param name="overrides">what this machine must change in the pod's environment (a cluster DNS name it cannot resolve).</param>
    public static async Task<ChartPod> StartAsync(
        RenderedChart chart,
        IReadOnlyDictionary<string, Dictionary<string, string>>? existingSecrets = null,
        string? podName = null,
        string address = "127.0.0.1",
        IReadOnlyDictionary<string, string>? overrides = null)
    {
        existingSecrets ??= new Dictionary<string, Dictionary<string, string>>();
        var environment = podName is null ? chart.PodEnvironment(existingSecrets) : chart.PodEnvironment(existingSecrets, podName);
        var volumes = new TempDirectory();
        var directories = new Dictionary<string, string>();
        var mounts = new Dictionary<string, string>();
        foreach (var mount in chart.Container.GetProperty("volumeMounts").EnumerateArray())
        {
            var name = mount.GetProperty("name").GetString()!;
            var volume = chart.PodSpec.GetProperty("volumes").EnumerateArray().Single(v => v.GetProperty("name").GetString() == name);
            var directory = Path.Combine(volumes.Path, name);
            Directory.CreateDirectory(directory);
            if (volume.TryGetProperty("secret", out var secret))
            {
                var secretName = secret.GetProperty("secretName").GetString()!;
                var data = existingSecrets.TryGetValue(secretName, out var existing) ? existing : chart.SecretData(secretName); // or one the chart made
                foreach (var (key, value) in data)
                {
                    await File.WriteAllTextAsync(Path.Combine(directory, key), value);
                }
            }

            directories[name] = directory;
            mounts[mount.GetProperty("mountPath").GetString()!] = directory;
        }

        // Paths in the environment that lie in a mount point lie in the directory standing in for it.
        foreach (var key in environment.Keys.ToList())
        {
            foreach (var (mountPath, directory) in mounts)
            {
                if (environment[key] == mountPath || environment[key].StartsWith(mountPath + "/", StringComparison.Ordinal))
                {
                    environment[key] = directory + environment[key][mountPath.Length..];
                }
            }
        }

        environment["Ftp__ListenAddress"] = address;
        environment["Management__ListenAddress"] = address;
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var process = RunningGateway.StartWithEnvironment(environment);
        var pod = new ChartPod(chart, process, volumes, directories) { Address = address };
        await process.WaitForPortAsync(pod.FtpPort, IPAddress.Parse(address));
        await process.WaitForPortAsync(chart.ContainerPort("management"), IPAddress.Parse(address));
        return pod;
    }

    /// <summary>Runs the container's liveness or readiness probe as the kubelet does (HTTP GET on the named port).</summary>
    public async Task<HttpStatusCode> ProbeAsync(string probe)
    {
        var get = Chart.Container.GetProperty(probe).GetProperty("httpGet");
        return await GetAsync(get.GetProperty("port").GetString()!, get.GetProperty("path").GetString()!);
    }

    /// <summary>What Prometheus gets when it scrapes the pod the way the ServiceMonitor says.</summary>
    public async Task<string> ScrapeAsync()
    {
        var endpoint = Chart.Get("ServiceMonitor").GetProperty("spec").GetProperty("endpoints")[0];
        var servicePort = Chart.ManagementService.GetProperty("spec").GetProperty("ports").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == endpoint.GetProperty("port").GetString());
        using var http = new HttpClient();
        return await http.GetStringAsync(Url(servicePort.GetProperty("targetPort").GetString()!, endpoint.GetProperty("path").GetString()!));
    }

    /// <summary>SIGTERM, as the kubelet sends it, and the exit code within the pod's termination grace period.</summary>
    public async Task<int> TerminateAsync()
    {
        var kill = await ExternalProcess.RunAsync("kill", ["-TERM", _process.ProcessId.ToString(CultureInfo.InvariantCulture)]);
        Assert.Equal(0, kill.ExitCode);
        var grace = Chart.PodSpec.GetProperty("terminationGracePeriodSeconds").GetInt32();
        return await _process.WaitForExitAsync(TimeSpan.FromSeconds(grace));
    }

    private async Task<HttpStatusCode> GetAsync(string portName, string path)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(Url(portName, path));
        return response.StatusCode;
    }

    /// <summary>The pod's own address.</summary>
    public string Address { get; private init; } = "127.0.0.1";

    /// <summary>The gateway process (its output, its id).</summary>
    public RunningGateway Process => _process;

    private Uri Url(string portName, string path) =>
        new($"http://{Address}:{Chart.ContainerPort(portName)}{path}");

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _volumes.Dispose();
    }
}
