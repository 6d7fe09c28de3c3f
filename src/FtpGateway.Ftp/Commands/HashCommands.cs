using System.Globalization;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Commands;

/// <summary>
/// File digests: HASH (draft-bryan-ftpext-hash) and the older XCRC, XMD5, XSHA1, XSHA256. Each takes a path,
/// quoted or not (<c>XCRC "my file.bin"</c>); the older ones also take a byte range as ProFTPD's mod_digest does:
/// <c>XCRC file.bin 0 1000</c> is the digest of bytes 0 to 999 (the end is exclusive and optional).
/// </summary>
internal static class HashCommands
{
    /// <summary>The legacy verbs and the algorithm each answers with.</summary>
    public static IReadOnlyList<(string Algorithm, string Verb)> LegacyVerbs { get; } =
        [(Hashing.Crc32, "XCRC"), (Hashing.Md5, "XMD5"), (Hashing.Sha1, "XSHA1"), (Hashing.Sha256, "XSHA256")];

    public static async ValueTask<FtpReply> Hash(SessionContext s, string argument, CancellationToken ct)
    {
        var target = await TargetAsync(s, argument, rangeAllowed: false, ct);
        if (target.Refusal is { } refusal)
        {
            return refusal;
        }

        var (entry, _, _) = target.Value;
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

        var target = await TargetAsync(s, argument, rangeAllowed: true, ct);
        if (target.Refusal is { } refusal)
        {
            return refusal;
        }

        var (entry, start, end) = target.Value;
        byte[] hash;
        if (start == 0 && end >= entry.Size)
        {
            hash = await s.Storage.GetHashAsync(entry.Path, algorithm, ct); // the whole file: what the store may know already
        }
        else
        {
            await using var stream = await s.Storage.OpenReadAsync(entry.Path, start, ct);
            hash = await Hashing.ComputeAsync(stream, algorithm, Math.Min(end, entry.Size) - start, ct);
        }

        return FtpReply.Of(ReplyCodes.FileActionOkay, Convert.ToHexString(hash));
    }

    /// <summary>
    /// The file an argument names, with the byte range asked for (the whole file when none). A name that exists
    /// is taken as it is; otherwise trailing numbers are the range, and a quoted name ends at its closing quote.
    /// </summary>
    private static async ValueTask<Checked<(StorageEntry Entry, long Start, long End)>> TargetAsync(SessionContext s, string argument, bool rangeAllowed, CancellationToken ct)
    {
        var literal = await s.FindFileAsync(argument, ct);
        if (literal.Refusal is null)
        {
            return (literal.Value.Entry, 0L, long.MaxValue);
        }

        if (Split(argument) is not var (name, numbers) || (numbers.Count > 0 && !rangeAllowed))
        {
            return literal.Refusal;
        }

        var start = numbers.Count > 0 ? numbers[0] : 0;
        var end = numbers.Count > 1 ? numbers[1] : long.MaxValue;
        if (end < start)
        {
            return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "The end of the range lies before its start.");
        }

        var file = await s.FindFileAsync(name, ct);
        if (file.Refusal is { } refusal)
        {
            return refusal;
        }

        return start > file.Value.Entry.Size
            ? FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "The range starts beyond the end of the file.")
            : (file.Value.Entry, start, end);
    }

    /// <summary>"\"my file\" 0 1000" or "file 0 1000" as the name and up to two numbers; null when it is neither.</summary>
    private static (string Name, List<long> Numbers)? Split(string argument)
    {
        string name;
        string rest;
        if (argument.StartsWith('"'))
        {
            var close = argument.IndexOf('"', 1);
            if (close < 0)
            {
                return null;
            }

            (name, rest) = (argument[1..close], argument[(close + 1)..]);
        }
        else
        {
            var words = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var count = words.Reverse().TakeWhile(IsNumber).Take(2).Count();
            if (count == 0 || count == words.Length)
            {
                return null;
            }

            var cut = CommandChecks.LastWordsStart(argument, count);
            (name, rest) = (argument[..cut].TrimEnd(), argument[cut..]);
        }

        var numbers = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return numbers.Length <= 2 && numbers.All(IsNumber)
            ? (name, numbers.Select(n => long.Parse(n, NumberStyles.None, CultureInfo.InvariantCulture)).ToList())
            : null;
    }

    private static bool IsNumber(string word) => long.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out _);
}
