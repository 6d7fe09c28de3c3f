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
    private bool _stopped;

    private QuarantineSpool(FileStream file) => _file = file;

    /// <summary>A spool in <paramref name="directory"/> (the pod's temporary directory).</summary>
    public static QuarantineSpool Create(string directory)
    {
        var path = Path.Combine(directory, $"ftpgateway-quarantine-{Guid.NewGuid():N}");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        File.Delete(path); // unlinked: the open handle keeps it until the upload ends
        return new QuarantineSpool(file);
    }

    /// <summary>Keeps <paramref name="data"/>; once the scan stopped (the scanner's limit), keeps nothing more.</summary>
    public void Write(ReadOnlySpan<byte> data, bool scanning)
    {
        _stopped |= !scanning;
        if (!_stopped)
        {
            _file.Write(data);
        }
    }

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

    public void Dispose() => _file.Dispose();

    private static string Safe(string value) =>
        string.Concat(value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')).TrimStart('.');
}
