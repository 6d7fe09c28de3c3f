using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Commands;

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

/// <summary>A command: reads and changes the session's state, returns its reply. Never writes to a socket.</summary>
internal delegate ValueTask<FtpReply> CommandHandler(SessionContext session, string argument, CancellationToken cancellationToken);

internal sealed record CommandSpec(string Verb, CommandHandler Handler, CommandFlags Flags, string Syntax)
{
    public bool Has(CommandFlags flag) => (Flags & flag) == flag;
}

/// <summary>
/// Every verb the server knows: one line each, aliases included. Verbs not here get 500 (RFC 959 §4.2:
/// "syntax error, command unrecognized"); known but unsupported ones answer from their handler (502/504/202).
/// </summary>
internal static class CommandTable
{
    private const CommandFlags None = CommandFlags.None;
    private const CommandFlags Arg = CommandFlags.NeedsArgument;
    private const CommandFlags Login = CommandFlags.NeedsLogin;
    private const CommandFlags LoginArg = Login | Arg;
    private const CommandFlags LoginPath = Login | CommandFlags.PathArgument;
    private const CommandFlags LoginArgPath = LoginArg | CommandFlags.PathArgument;
    private const CommandFlags Always = CommandFlags.DuringTransfer;

    public static IReadOnlyDictionary<string, CommandSpec> Commands { get; } = new CommandSpec[]
    {
        // Access control (RFC 959 §4.1.1)
        new("USER", Sync(AccessCommands.User), Arg, "USER <name>"),
        new("PASS", AccessCommands.Pass, None, "PASS <password>"),
        new("ACCT", Sync(AccessCommands.Acct), None, "ACCT <account>"),
        new("CWD", NavigationCommands.Cwd, LoginArgPath, "CWD <directory>"),
        new("XCWD", NavigationCommands.Cwd, LoginArgPath, "XCWD <directory>"),
        new("CDUP", Sync(NavigationCommands.Cdup), Login, "CDUP"),
        new("XCUP", Sync(NavigationCommands.Cdup), Login, "XCUP"),
        new("SMNT", Sync(NavigationCommands.Smnt), Login, "SMNT <structure>"),
        new("REIN", Sync(AccessCommands.Rein), None, "REIN"),
        new("QUIT", Sync(AccessCommands.Quit), None, "QUIT"),

        // Transfer parameters (RFC 959 §4.1.2, RFC 2428)
        new("PORT", Sync(ParameterCommands.Port), LoginArg, "PORT h1,h2,h3,h4,p1,p2"),
        new("EPRT", Sync(ParameterCommands.Eprt), LoginArg, "EPRT |proto|address|port|"),
        new("PASV", Sync(ParameterCommands.Pasv), Login, "PASV"),
        new("EPSV", Sync(ParameterCommands.Epsv), Login, "EPSV [1|2|ALL]"),
        new("TYPE", Sync(ParameterCommands.Type), Arg, "TYPE {A [N]|I|L 8}"),
        new("STRU", Sync(ParameterCommands.Stru), Arg, "STRU F"),
        new("MODE", Sync(ParameterCommands.Mode), Arg, "MODE S"),

        // Service commands (RFC 959 §4.1.3)
        new("RETR", TransferCommands.Retr, LoginArgPath, "RETR <file>"),
        new("STOR", TransferCommands.Stor, LoginArgPath, "STOR <file>"),
        new("STOU", TransferCommands.Stou, LoginPath, "STOU [<prefix>]"),
        new("APPE", TransferCommands.Appe, LoginArgPath, "APPE <file>"),
        new("ALLO", Sync(ParameterCommands.Allo), Login, "ALLO <bytes>"),
        new("REST", Sync(ParameterCommands.Rest), LoginArg, "REST <offset>"),
        new("RNFR", FileCommands.Rnfr, LoginArgPath, "RNFR <path>"),
        new("RNTO", FileCommands.Rnto, LoginArgPath, "RNTO <path>"),
        new("ABOR", TransferCommands.Abor, Always, "ABOR"),
        new("DELE", FileCommands.Dele, LoginArgPath, "DELE <file>"),
        new("RMD", FileCommands.Rmd, LoginArgPath, "RMD <directory>"),
        new("XRMD", FileCommands.Rmd, LoginArgPath, "XRMD <directory>"),
        new("MKD", FileCommands.Mkd, LoginArgPath, "MKD <directory>"),
        new("XMKD", FileCommands.Mkd, LoginArgPath, "XMKD <directory>"),
        new("PWD", Sync(NavigationCommands.Pwd), Login, "PWD"),
        new("XPWD", Sync(NavigationCommands.Pwd), Login, "XPWD"),
        new("LIST", ListingCommands.List, LoginPath, "LIST [<path>]"),
        new("NLST", ListingCommands.Nlst, LoginPath, "NLST [<path>]"),
        new("SITE", SiteCommands.Site, LoginArg, "SITE {CHMOD|IDLE|UTIME|HELP} ..."),
        new("SYST", Sync(InfoCommands.Syst), None, "SYST"),
        new("STAT", ListingCommands.Stat, Always, "STAT [<path>]"),
        new("HELP", Sync(InfoCommands.Help), Always, "HELP [<command>]"),
        new("NOOP", Sync(InfoCommands.Noop), Always, "NOOP"),

        // Extensions: RFC 2389, RFC 3659, RFC 2640, draft-somers-ftp-mfxx, draft-bryan-ftpext-hash
        new("FEAT", Sync(InfoCommands.Feat), Always, "FEAT"),
        new("OPTS", Sync(InfoCommands.Opts), Arg, "OPTS <command> [<options>]"),
        new("SIZE", FileCommands.Size, LoginArgPath, "SIZE <file>"),
        new("MDTM", FileCommands.Mdtm, LoginArgPath, "MDTM <file>"),
        new("MFMT", FileCommands.Mfmt, LoginArgPath, "MFMT YYYYMMDDHHMMSS <path>"),
        new("MLST", ListingCommands.Mlst, LoginPath, "MLST [<path>]"),
        new("MLSD", ListingCommands.Mlsd, LoginPath, "MLSD [<directory>]"),
        new("HASH", HashCommands.Hash, LoginArgPath, "HASH <file>"),
        new("XCRC", HashCommands.Legacy(Hashing.Crc32), LoginArgPath, "XCRC <file>"),
        new("XMD5", HashCommands.Legacy(Hashing.Md5), LoginArgPath, "XMD5 <file>"),
        new("XSHA1", HashCommands.Legacy(Hashing.Sha1), LoginArgPath, "XSHA1 <file>"),
        new("XSHA256", HashCommands.Legacy(Hashing.Sha256), LoginArgPath, "XSHA256 <file>"),
        new("CLNT", Sync(InfoCommands.Clnt), None, "CLNT <client name>"),

        // Security (RFC 2228, RFC 4217)
        new("AUTH", Sync(TlsCommands.Auth), Arg, "AUTH TLS"),
        new("PBSZ", Sync(TlsCommands.Pbsz), Arg, "PBSZ 0"),
        new("PROT", Sync(TlsCommands.Prot), Arg, "PROT {C|P}"),
    }.ToDictionary(s => s.Verb, StringComparer.OrdinalIgnoreCase);

    /// <summary>A command that answers without waiting on anything.</summary>
    private static CommandHandler Sync(Func<SessionContext, string, FtpReply> handler) =>
        (session, argument, _) => ValueTask.FromResult(handler(session, argument));
}
