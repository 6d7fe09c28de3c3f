namespace FtpGateway.Ftp.Session;

[Flags]
internal enum CommandFlags
{
    None = 0,

    /// <summary>Answered with 530 before login.</summary>
    NeedsLogin = 1,

    /// <summary>Runs at once while a transfer is running (the others wait for it to end).</summary>
    DuringTransfer = 2,

    /// <summary>Answered with 501 when the argument is missing.</summary>
    NeedsArgument = 4,

    /// <summary>The argument is a path and may be recorded in traces (no other argument ever is).</summary>
    PathArgument = 8,
}

internal delegate Task CommandHandler(FtpSession session, string argument, CancellationToken cancellationToken);

internal sealed record CommandSpec(string Verb, CommandHandler Handler, CommandFlags Flags, string Syntax);

/// <summary>
/// Every verb the server knows: one line each, aliases included. Verbs not here get 500 (RFC 959 §4.2:
/// "syntax error, command unrecognized"); known but unsupported ones answer from their handler (502/504/202).
/// </summary>
internal static class CommandTable
{
    private const CommandFlags Login = CommandFlags.NeedsLogin;
    private const CommandFlags LoginArg = CommandFlags.NeedsLogin | CommandFlags.NeedsArgument;
    private const CommandFlags Always = CommandFlags.DuringTransfer;
    private const CommandFlags LoginPath = Login | CommandFlags.PathArgument;
    private const CommandFlags LoginArgPath = LoginArg | CommandFlags.PathArgument;

    public static IReadOnlyDictionary<string, CommandSpec> Commands { get; } = Build(
    [
        // Access control (RFC 959 §4.1.1)
        new("USER", (s, a, c) => s.UserAsync(a, c), CommandFlags.NeedsArgument, "USER <name>"),
        new("PASS", (s, a, c) => s.PassAsync(a, c), CommandFlags.None, "PASS <password>"),
        new("ACCT", (s, a, c) => s.AcctAsync(a, c), CommandFlags.None, "ACCT <account>"),
        new("CWD", (s, a, c) => s.CwdAsync(a, c), LoginArgPath, "CWD <directory>"),
        new("XCWD", (s, a, c) => s.CwdAsync(a, c), LoginArgPath, "XCWD <directory>"),
        new("CDUP", (s, a, c) => s.CdupAsync(a, c), Login, "CDUP"),
        new("XCUP", (s, a, c) => s.CdupAsync(a, c), Login, "XCUP"),
        new("SMNT", (s, a, c) => s.SmntAsync(a, c), Login, "SMNT <structure>"),
        new("REIN", (s, a, c) => s.ReinAsync(a, c), CommandFlags.None, "REIN"),
        new("QUIT", (s, a, c) => s.QuitAsync(a, c), CommandFlags.None, "QUIT"),

        // Transfer parameters (RFC 959 §4.1.2, RFC 2428)
        new("PORT", (s, a, c) => s.PortAsync(a, c), LoginArg, "PORT h1,h2,h3,h4,p1,p2"),
        new("EPRT", (s, a, c) => s.EprtAsync(a, c), LoginArg, "EPRT |proto|address|port|"),
        new("PASV", (s, a, c) => s.PasvAsync(a, c), Login, "PASV"),
        new("EPSV", (s, a, c) => s.EpsvAsync(a, c), Login, "EPSV [1|2|ALL]"),
        new("TYPE", (s, a, c) => s.TypeAsync(a, c), CommandFlags.NeedsArgument, "TYPE {A [N]|I|L 8}"),
        new("STRU", (s, a, c) => s.StruAsync(a, c), CommandFlags.NeedsArgument, "STRU F"),
        new("MODE", (s, a, c) => s.ModeAsync(a, c), CommandFlags.NeedsArgument, "MODE S"),

        // Service commands (RFC 959 §4.1.3)
        new("RETR", (s, a, c) => s.RetrAsync(a, c), LoginArgPath, "RETR <file>"),
        new("STOR", (s, a, c) => s.StorAsync(a, c), LoginArgPath, "STOR <file>"),
        new("STOU", (s, a, c) => s.StouAsync(a, c), LoginPath, "STOU [<prefix>]"),
        new("APPE", (s, a, c) => s.AppeAsync(a, c), LoginArgPath, "APPE <file>"),
        new("ALLO", (s, a, c) => s.AlloAsync(a, c), Login, "ALLO <bytes>"),
        new("REST", (s, a, c) => s.RestAsync(a, c), LoginArg, "REST <offset>"),
        new("RNFR", (s, a, c) => s.RnfrAsync(a, c), LoginArgPath, "RNFR <path>"),
        new("RNTO", (s, a, c) => s.RntoAsync(a, c), LoginArgPath, "RNTO <path>"),
        new("ABOR", (s, a, c) => s.AborAsync(a, c), Always, "ABOR"),
        new("DELE", (s, a, c) => s.DeleAsync(a, c), LoginArgPath, "DELE <file>"),
        new("RMD", (s, a, c) => s.RmdAsync(a, c), LoginArgPath, "RMD <directory>"),
        new("XRMD", (s, a, c) => s.RmdAsync(a, c), LoginArgPath, "XRMD <directory>"),
        new("MKD", (s, a, c) => s.MkdAsync(a, c), LoginArgPath, "MKD <directory>"),
        new("XMKD", (s, a, c) => s.MkdAsync(a, c), LoginArgPath, "XMKD <directory>"),
        new("PWD", (s, a, c) => s.PwdAsync(a, c), Login, "PWD"),
        new("XPWD", (s, a, c) => s.PwdAsync(a, c), Login, "XPWD"),
        new("LIST", (s, a, c) => s.ListAsync(a, c), LoginPath, "LIST [<path>]"),
        new("NLST", (s, a, c) => s.NlstAsync(a, c), LoginPath, "NLST [<path>]"),
        new("SITE", (s, a, c) => s.SiteAsync(a, c), LoginArg, "SITE <command>"),
        new("SYST", (s, a, c) => s.SystAsync(a, c), CommandFlags.None, "SYST"),
        new("STAT", (s, a, c) => s.StatAsync(a, c), Always, "STAT [<path>]"),
        new("HELP", (s, a, c) => s.HelpAsync(a, c), Always, "HELP [<command>]"),
        new("NOOP", (s, a, c) => s.NoopAsync(a, c), Always, "NOOP"),

        // Extensions: RFC 2389, RFC 3659, RFC 2640, draft-somers-ftp-mfxx, draft-bryan-ftpext-hash
        new("FEAT", (s, a, c) => s.FeatAsync(a, c), Always, "FEAT"),
        new("OPTS", (s, a, c) => s.OptsAsync(a, c), CommandFlags.NeedsArgument, "OPTS <command> [<options>]"),
        new("SIZE", (s, a, c) => s.SizeAsync(a, c), LoginArgPath, "SIZE <file>"),
        new("MDTM", (s, a, c) => s.MdtmAsync(a, c), LoginArgPath, "MDTM <file>"),
        new("MFMT", (s, a, c) => s.MfmtAsync(a, c), LoginArgPath, "MFMT YYYYMMDDHHMMSS <path>"),
        new("MLST", (s, a, c) => s.MlstAsync(a, c), LoginPath, "MLST [<path>]"),
        new("MLSD", (s, a, c) => s.MlsdAsync(a, c), LoginPath, "MLSD [<directory>]"),
        new("HASH", (s, a, c) => s.HashAsync(a, c), LoginArgPath, "HASH <file>"),
        new("XCRC", (s, a, c) => s.LegacyHashAsync(Storage.Hashing.Crc32, a, c), LoginArgPath, "XCRC <file>"),
        new("XMD5", (s, a, c) => s.LegacyHashAsync(Storage.Hashing.Md5, a, c), LoginArgPath, "XMD5 <file>"),
        new("XSHA1", (s, a, c) => s.LegacyHashAsync(Storage.Hashing.Sha1, a, c), LoginArgPath, "XSHA1 <file>"),
        new("XSHA256", (s, a, c) => s.LegacyHashAsync(Storage.Hashing.Sha256, a, c), LoginArgPath, "XSHA256 <file>"),
        new("CLNT", (s, a, c) => s.ClntAsync(a, c), CommandFlags.None, "CLNT <client name>"),

        // Security (RFC 2228, RFC 4217)
        new("AUTH", (s, a, c) => s.AuthAsync(a, c), CommandFlags.NeedsArgument, "AUTH TLS"),
        new("PBSZ", (s, a, c) => s.PbszAsync(a, c), CommandFlags.NeedsArgument, "PBSZ 0"),
        new("PROT", (s, a, c) => s.ProtAsync(a, c), CommandFlags.NeedsArgument, "PROT {C|P}"),
    ]);

    private static Dictionary<string, CommandSpec> Build(CommandSpec[] specs) =>
        specs.ToDictionary(s => s.Verb, StringComparer.OrdinalIgnoreCase);
}
