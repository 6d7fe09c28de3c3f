using System.Globalization;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Commands;

/// <summary>File digests: HASH (draft-bryan-ftpext-hash) and the older XCRC, XMD5, XSHA1, XSHA256.</summary>
internal static class HashCommands
{
    /// <summary>The legacy verbs and the algorithm each answers with.</summary>
    public static IReadOnlyList<(string Algorithm, string Verb)> LegacyVerbs { get; } =
        [(Hashing.Crc32, "XCRC"), (Hashing.Md5, "XMD5"), (Hashing.Sha1, "XSHA1"), (Hashing.Sha256, "XSHA256")];

    public static async ValueTask<FtpReply> Hash(SessionContext s, string argument, CancellationToken ct)
    {
        var file = await s.FindFileAsync(argument, ct);
        if (file.Refusal is { } refusal)
        {
            return refusal;
        }

        var entry = file.Value.Entry;
        var algorithm = s.Parameters.HashAlgorithm;
        var hash = await s.Storage.GetHashAsync(entry.Path, algorithm, ct);

        // draft-bryan-ftpext-hash-02 §3: <algorithm> <start>-<end> <hash> <path>
        return FtpReply.Of(ReplyCodes.FileStatus, string.Create(CultureInfo.InvariantCulture, $"{algorithm} 0-{entry.Size} {Convert.ToHexStringLower(hash)} {argument}"));
    }

    public static CommandHandler Legacy(string algorithm) => (s, argument, ct) => LegacyAsync(s, algorithm, argument, ct);

    private static async ValueTask<FtpReply> LegacyAsync(SessionContext s, string algorithm, string argument, CancellationToken ct)
    {
        if (!s.Storage.HashAlgorithms.Contains(algorithm))
        {
            return FtpReply.Of(ReplyCodes.NotImplemented, $"{algorithm} is not available for this storage.");
        }

        var file = await s.FindFileAsync(argument, ct);
        if (file.Refusal is { } refusal)
        {
            return refusal;
        }

        var hash = await s.Storage.GetHashAsync(file.Value.Entry.Path, algorithm, ct);
        return FtpReply.Of(ReplyCodes.FileActionOkay, Convert.ToHexString(hash));
    }
}
