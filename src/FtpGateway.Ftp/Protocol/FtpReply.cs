using FtpGateway.Ftp.Sessions;
using FtpGateway.Ftp.Transfers;

namespace FtpGateway.Ftp.Protocol;

/// <summary>
/// What a command answers: a reply code and its lines (RFC 959 §4.2; several lines make a multi-line reply),
/// optionally followed by what the session does once the reply is on the wire. Commands return replies and
/// never write them, so every command can be run and checked without a socket, and telemetry reads the code
/// from the value instead of a side channel.
/// </summary>
internal sealed class FtpReply
{
    private FtpReply(int code, IReadOnlyList<string> lines)
    {
        Code = code;
        Lines = lines;
    }

    public int Code { get; }

    /// <summary>The lines of the reply; with a <see cref="Body"/>, the first and the last line around it.</summary>
    public IReadOnlyList<string> Lines { get; }

    /// <summary>
    /// Lines streamed between the first and the last line (STAT of a directory over the control connection):
    /// written as they come, never collected, so a directory of a million entries costs no memory.
    /// </summary>
    public IAsyncEnumerable<string>? Body { get; private init; }

    /// <summary>A transfer to start in the background once this (preliminary, 1xx) reply is sent.</summary>
    public TransferJob? Transfer { get; private init; }

    /// <summary>The session ends once this reply is sent (QUIT, or 421), for this reason.</summary>
    public SessionEndReason? EndsSession { get; private init; }

    /// <summary>The control connection turns into TLS once this reply is sent (AUTH TLS, RFC 4217 §4).</summary>
    public bool StartsTls { get; private init; }

    /// <summary>A one-line reply.</summary>
    public static FtpReply Of(int code, string text) => new(code, [text]);

    /// <summary>A multi-line reply: the first and last lines carry the code (RFC 959 §4.2).</summary>
    public static FtpReply Multiline(int code, IReadOnlyList<string> lines) =>
        lines.Count == 0 ? throw new ArgumentException("A reply has at least one line", nameof(lines)) : new(code, lines);

    /// <summary>A multi-line reply whose middle lines are streamed from <paramref name="body"/>.</summary>
    public static FtpReply Streamed(int code, string first, IAsyncEnumerable<string> body, string last) =>
        new(code, [first, last]) { Body = body };

    /// <summary>The preliminary reply of a transfer command (150), which then runs <paramref name="job"/>.</summary>
    public static FtpReply StartTransfer(string text, TransferJob job) =>
        new(ReplyCodes.FileStatusOkay, [text]) { Transfer = job };

    /// <summary>This transfer reply, its job also releasing <paramref name="opened"/> when it ends or never starts.</summary>
    public FtpReply WithOpened(IDisposable opened) =>
        new(Code, Lines) { Transfer = Transfer! with { Opened = opened } };

    /// <summary>A reply after which the session ends (221 for QUIT, 421 otherwise).</summary>
    public static FtpReply Closing(int code, string text, SessionEndReason reason) =>
        new(code, [text]) { EndsSession = reason };

    /// <summary>The 234 reply to AUTH TLS; the handshake follows it.</summary>
    public static FtpReply StartingTls(string text) =>
        new(ReplyCodes.SecurityExchangeOkay, [text]) { StartsTls = true };

    public override string ToString() => $"{Code} {Lines[^1]}";
}
