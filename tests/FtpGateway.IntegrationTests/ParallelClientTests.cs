using System.Globalization;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// More independent clients against the gateway on local disk: rclone's FTP backend and lftp with parallel
/// sessions, and the Python libraries ftputil and aioftp (Debian's packages, run by Debian's python3).
/// </summary>
public sealed class ParallelClientTests : IAsyncLifetime
{
    private Gateway _gateway = null!;
    private TempDirectory _work = null!;

    public async Task InitializeAsync()
    {
        _gateway = await Gateway.StartAsync();
        _work = new TempDirectory();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _work.Dispose();
    }

    private Task<IReadOnlyCollection<string>> StoredTreeAsync(string directory)
    {
        var root = _gateway.Root.File(directory);
        IReadOnlyCollection<string> files = Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).ToList()
            : [];
        return Task.FromResult(files);
    }

    [Fact]
    public Task Rclone_CopyCheckSyncPurge() => ParallelClients.RcloneScenarioAsync(_gateway, _work, StoredTreeAsync);

    [Fact]
    public async Task Lftp_ParallelMirrorAndSegmentedDownloads()
    {
        await ParallelClients.LftpScenarioAsync(_gateway, _work);
        Assert.True(File.Exists(_gateway.Root.File("par/cam01/2026/shot-47.jpg")));
    }

    [Theory]
    [InlineData("ftputil_scenario.py")]
    [InlineData("aioftp_scenario.py")]
    public async Task PythonLibrary_FullSession(string script)
    {
        var result = await RunDebianPythonAsync(script);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("OK", result.StandardOutput.Trim());
    }

    /// <summary>Debian's python3 carries python3-ftputil and python3-aioftp (tests/run-all.sh installs them).</summary>
    private Task<ExternalProcess.Result> RunDebianPythonAsync(string script)
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python))
        {
            throw new InvalidOperationException($"{python} is not installed; run tests/run-all.sh, which installs the test clients");
        }

        return ExternalProcess.RunAsync(python,
            [Path.Combine(AppContext.BaseDirectory, "clients", script), _gateway.Port.ToString(CultureInfo.InvariantCulture), Gateway.User, Gateway.Password]);
    }
}
