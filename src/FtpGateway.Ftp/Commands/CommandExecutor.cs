using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Commands;

/// <summary>
/// Runs one command against a session: the checks every command shares (the table's flags), the command, and
/// the one mapping of storage failures to replies. The session's loop and the socket-free command tests both
/// come through here.
/// </summary>
internal static class CommandExecutor
{
    /// <summary>Splits a command line into its verb and argument (RFC 959 §4.1: verb, one space, argument).</summary>
    public static (string Verb, string Argument) Parse(string line)
    {
        var text = line.TrimStart(' ');
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? (text, string.Empty) : (text[..space], text[(space + 1)..]);
    }

    /// <summary>The text of the 421 that ends sessions when the server shuts down.</summary>
    public const string ShuttingDown = "Service shutting down; closing control connection.";

    public static FtpReply NotLoggedIn { get; } = FtpReply.Of(ReplyCodes.NotLoggedIn, "Please log in with USER and PASS.");

    public static async Task<FtpReply> ExecuteAsync(SessionContext s, CommandSpec spec, string argument, CancellationToken ct)
    {
        Log.Command(s.Logger, spec.Verb, spec.Verb == "PASS" ? "****" : LogText.Sanitize(argument));
        if (!spec.Has(CommandFlags.DuringTransfer))
        {
            await s.Transfers.WaitAsync();
        }

        // A closing session's running transfer may finish: what a client sends beside it (a NOOP keep-alive, STAT,
        // ABOR) is answered as usual, and the 421 comes once the transfer has ended.
        if (s.Closing is { } closing && spec.Verb != "QUIT" && !(spec.Has(CommandFlags.DuringTransfer) && s.Transfers.Current is not null))
        {
            // Shutting down, or the user was removed: no new work (RFC 959 §4.2: 421 closes the control connection).
            return FtpReply.Closing(ReplyCodes.ServiceNotAvailable, closing.Text, closing.Reason);
        }

        if (spec.Has(CommandFlags.NeedsLogin) && s.Login.User is null)
        {
            return NotLoggedIn;
        }

        if (spec.Has(CommandFlags.NeedsArgument) && string.IsNullOrWhiteSpace(argument))
        {
            return FtpReply.Of(ReplyCodes.SyntaxErrorInParameters, $"Syntax: {spec.Syntax}");
        }

        // RFC 959 §4.1.3: RNTO must follow RNFR immediately; anything else forgets the pending rename.
        if (spec.Verb != "RNTO")
        {
            s.Parameters.RenameFrom = null;
        }

        try
        {
            return await spec.Handler(s, argument, ct);
        }
        catch (StorageException ex)
        {
            Log.StorageError(s.Logger, ex, spec.Verb, ex.Kind);
            var (code, text) = ReplyMapper.Map(ex.Kind);
            return FtpReply.Of(code, text);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw; // the session is ending
        }
        catch (Exception ex)
        {
            // A command never touches the control connection (it returns its reply), so nothing it throws means the
            // client is gone: whatever escapes a handler is the gateway's own failure, answered 451.
            Log.UnexpectedError(s.Logger, ex, spec.Verb);
            return FtpReply.Of(ReplyCodes.LocalError, "Local error in processing.");
        }
    }
}
