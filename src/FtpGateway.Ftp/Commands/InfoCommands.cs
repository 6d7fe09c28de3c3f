using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Commands;

/// <summary>What the server is and offers (RFC 959 §4.1.3, RFC 2389): SYST, NOOP, CLNT, HELP, FEAT, OPTS, SITE.</summary>
internal static class InfoCommands
{
    public static FtpReply Syst(SessionContext s, string argument) => FtpReply.Of(ReplyCodes.SystemType, "UNIX Type: L8");

    public static FtpReply Noop(SessionContext s, string argument) => FtpReply.Of(ReplyCodes.Okay, "NOOP ok.");

    public static FtpReply Clnt(SessionContext s, string argument) => FtpReply.Of(ReplyCodes.Okay, "Noted.");

    public static FtpReply Help(SessionContext s, string argument)
    {
        if (argument.Length > 0)
        {
            return CommandTable.Commands.TryGetValue(argument.Trim(), out var spec)
                ? FtpReply.Of(ReplyCodes.Help, $"Syntax: {spec.Syntax}")
                : FtpReply.Of(ReplyCodes.NotImplemented, "Unknown command.");
        }

        var lines = new List<string> { "The following commands are recognized:" };
        lines.AddRange(CommandTable.Commands.Keys.Order(StringComparer.Ordinal).Chunk(10).Select(c => string.Join(' ', c)));
        lines.Add("Help OK.");
        return FtpReply.Multiline(ReplyCodes.Help, lines);
    }

    /// <summary>RFC 2389 §3.2: one feature per line, each starting with a space. Only what works with this storage is listed.</summary>
    public static FtpReply Feat(SessionContext s, string argument)
    {
        var storage = s.Storage;
        var lines = new List<string> { "Features:" };
        if (s.Server.Certificate is not null)
        {
            lines.AddRange(["AUTH TLS", "PBSZ", "PROT"]);
        }

        lines.Add("UTF8");
        if (s.Options.AllowActiveMode)
        {
            lines.Add("EPRT");
        }

        lines.AddRange(["EPSV", "MDTM", "SIZE", "REST STREAM", "TVFS", "CLNT", ListingFormatter.FeatureLine(s.Parameters.Facts, SupportedFacts(storage))]);
        if ((storage.Capabilities & StorageCapabilities.SetModificationTime) != 0)
        {
            lines.Add("MFMT");
        }

        if (storage.HashAlgorithms.Count > 0)
        {
            lines.Add("HASH " + string.Join(';', storage.HashAlgorithms.Select(a => a == s.Parameters.HashAlgorithm ? a + "*" : a)));
            lines.AddRange(HashCommands.LegacyVerbs.Where(v => storage.HashAlgorithms.Contains(v.Algorithm)).Select(v => v.Verb));
        }

        lines.Add("End");
        return FtpReply.Multiline(ReplyCodes.SystemStatus, lines);
    }

    public static FtpReply Opts(SessionContext s, string argument)
    {
        var parts = argument.Split(' ', 2, StringSplitOptions.TrimEntries);
        var option = parts.Length > 1 ? parts[1] : string.Empty;
        switch (parts[0].ToUpperInvariant())
        {
            case "UTF8" or "UTF-8":
                // RFC 2640: paths are always UTF-8 here; ON and OFF are both accepted.
                return FtpReply.Of(ReplyCodes.Okay, "UTF8 mode is always on.");
            case "MLST":
                s.Parameters.Facts = ListingFormatter.ParseFacts(option) & SupportedFacts(s.Storage);
                return FtpReply.Of(ReplyCodes.Okay, $"MLST OPTS {ListingFormatter.FactsText(s.Parameters.Facts)}");
            case "HASH" when option.Length == 0:
                return FtpReply.Of(ReplyCodes.Okay, s.Parameters.HashAlgorithm);
            case "HASH":
                var algorithm = s.Storage.HashAlgorithms.FirstOrDefault(a => a.Equals(option, StringComparison.OrdinalIgnoreCase));
                if (algorithm is null)
                {
                    return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Unknown algorithm.");
                }

                s.Parameters.HashAlgorithm = algorithm;
                return FtpReply.Of(ReplyCodes.Okay, algorithm);
            default:
                return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, "Option not understood.");
        }
    }

    /// <summary>The MLST facts this storage fills: <c>unique</c> only where the provider has a real identifier.</summary>
    private static MlstFacts SupportedFacts(IStorageProvider storage) =>
        (storage.Capabilities & StorageCapabilities.UniqueIds) != 0 ? MlstFacts.All : MlstFacts.All & ~MlstFacts.Unique;
}
