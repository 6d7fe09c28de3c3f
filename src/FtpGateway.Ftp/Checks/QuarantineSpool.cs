using System.Globalization;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Checks;

/// <summary>
/// With <c>Scanning:QuarantineStorage</c>, a scanned upload's new bytes are also written to a temporary file while
/// they stream (the page cache, bounded by what clamd scans: the spool stops when the scan does), so that an
/// infected upload can be kept in the quarantine target instead of the user's; a clean one's spool is deleted.
/// The file is unlinked as soon as it is created: nothing is left behind by a crash, and no other process can open it.
/// </summary>
internal sealed class QuarantineSpool : IDisposable
{
    private readonly FileStream _file;
    private readonly SpoolBudget _budget;
    private long _held;
    private bool _stopped;

    private QuarantineSpool(FileStream file, SpoolBudget budget) => (_file, _budget) = (file, budget);

    /// <summary>Whether every scanned byte was kept (none lost to the budget, a full disk or the scanner's limit).</summary>
    public bool Whole { get; private set; } = true;

    /// <summary>A spool in <paramref name="directory"/> (the pod's temporary directory); null when none can be made there.</summary>
    public static QuarantineSpool? Create(string directory, SpoolBudget budget)
    {
        var path = Path.Combine(directory, $"ftpgateway-quarantine-{Guid.NewGuid():N}");
        try
        {
            var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
            File.Delete(path); // unlinked: the open handle keeps it until the upload ends
            return new QuarantineSpool(file, budget);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // the upload goes on; an infected one is then kept nowhere (the rejection says so)
        }
    }

    /// <summary>
    /// Keeps <paramref name="data"/>. Once the scan stopped (the scanner's limit), the spools' shared budget is spent,
    /// or the disk refuses, it keeps nothing more: the upload itself never fails for its spool.
    /// </summary>
    public void Write(ReadOnlySpan<byte> data, bool scanning)
    {
        if (_stopped)
        {
            return;
        }

        if (!scanning || !_budget.TryTake(data.Length))
        {
            Stop();
            return;
        }

        _held += data.Length;
        try
        {
            _file.Write(data);
        }
        catch (IOException)
        {
            Stop();
        }
    }

    private void Stop() => (_stopped, Whole) = (true, false);

    /// <summary>
    /// Stores what was kept in <paramref name="target"/> as <c>/yyyyMMdd-HHmmss-user-session-name</c>; returns the path.
    /// The name is made of the user's, the session's and the file's names with anything but letters, digits, dots,
    /// hyphens and underscores replaced, so it is one name in the target's root on every provider.
    /// </summary>
    public async Task<StoragePath> MoveToAsync(IStorageProvider target, DateTimeOffset now, string user, string session, string name, CancellationToken ct)
    {
        var path = StoragePath.Parse("/" + string.Create(CultureInfo.InvariantCulture, $"{now:yyyyMMdd-HHmmss}-{Safe(user)}-{Safe(session)}-{Safe(name)}"));
        _file.Position = 0;
        await target.UploadAsync(new UploadRequest(path, _file) { Mode = UploadMode.CreateNew }, ct);
        return path;
    }

    public void Dispose()
    {
        _budget.Give(_held);
        _held = 0;
        _file.Dispose();
    }

    private static string Safe(string value) =>
        string.Concat(value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')).TrimStart('.');
}

/// <summary>
/// What all quarantine spools of the gateway may hold at once on the temporary directory
/// (<c>Scanning:QuarantineSpoolBytes</c>): many large uploads at once must not fill the pod's disk.
/// </summary>
internal sealed class SpoolBudget(long bytes)
{
    private long _left = bytes;

    public bool TryTake(long n)
    {
        if (Interlocked.Add(ref _left, -n) >= 0)
        {
            return true;
        }

        Interlocked.Add(ref _left, n);
        return false;
    }

    public void Give(long n) => Interlocked.Add(ref _left, n);
}
