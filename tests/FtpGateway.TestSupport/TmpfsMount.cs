using System.Diagnostics;
using System.Globalization;

namespace FtpGateway.TestSupport;

/// <summary>
/// A small tmpfs mounted on a directory for one test: a file system that fills up, or a mount point inside a
/// storage root. Needs root (tests/run-all.sh runs as root, as CI does); unmounted lazily on dispose.
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    public static TmpfsMount Create(string directory, long sizeBytes)
    {
        Directory.CreateDirectory(directory);
        Run("mount", "-t", "tmpfs", "-o", string.Create(CultureInfo.InvariantCulture, $"size={sizeBytes},mode=0755"), "tmpfs", directory);
        return new TmpfsMount(directory);
    }

    public void Dispose() => Run("umount", "-l", Path);

    private static void Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error} — these tests mount a tmpfs and run as root, as tests/run-all.sh does in CI");
        }
    }
}
