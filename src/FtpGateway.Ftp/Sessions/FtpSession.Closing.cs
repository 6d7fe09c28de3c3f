using System.Net.Sockets;
using FtpGateway.Ftp.Commands;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Transfers;

namespace FtpGateway.Ftp.Sessions;

/// <summary>How a session is closed from outside its command loop: a changed user, the operator, a drain, the server's stop.</summary>
internal sealed partial class FtpSession
{
    /// <summary>The user was removed, disabled or changed: a running transfer may finish, then 421 and the session closes.</summary>
    internal Task CloseForChangedUserAsync() =>
        CloseFromOutsideAsync(new SessionClose("Your user was removed or changed; closing connection.", SessionEndReason.UserRemoved));

    /// <summary>
    /// The operator ended the session: its running transfer may finish, or with <paramref name="now"/> it is cut
    /// (426, an upload commits nothing); then 421 and the session closes.
    /// </summary>
    internal async Task EndByOperatorAsync(bool now)
    {
        var close = new SessionClose("Your session was ended by the operator; closing connection.", SessionEndReason.EndedByOperator);
        _s.Closing ??= close;
        if (now)
        {
            await _s.Transfers.CancelAsync(TransferFailure.EndedByOperator);
        }

        await CloseFromOutsideAsync(close, now ? TransferFailure.EndedByOperator : null);
    }

    /// <summary>
    /// Graceful shutdown: a running transfer may finish (and is answered as usual), then the session gets 421
    /// and is closed. Commands that arrive meanwhile are answered 421 as well.
    /// </summary>
    internal Task DrainAsync() => CloseFromOutsideAsync(new SessionClose(CommandExecutor.ShuttingDown, SessionEndReason.ServerShutdown));

    /// <summary>
    /// Stops new work (the next command gets the 421), waits for a command in progress to finish — so a transfer
    /// it starts is seen — and for the running transfer, then sends the 421 and closes.
    /// </summary>
    /// <param name="close">the 421 and the reason.</param>
    /// <param name="cut">when set, a transfer that a command in progress started meanwhile is cut too, for this reason.</param>
    private async Task CloseFromOutsideAsync(SessionClose close, TransferFailure? cut = null)
    {
        _s.Closing ??= close;
        try
        {
            await _commandGate.WaitAsync(_cts.Token);
            _commandGate.Release();
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            return; // the session ended meanwhile
        }

        if (cut is { } reason)
        {
            await _s.Transfers.CancelAsync(reason);
        }

        await _s.Transfers.WaitAsync();
        if (End(close.Reason))
        {
            await CloseAsync(close.Text);
        }
    }

    /// <summary>From outside the command loop: a last 421, then the connection closes, which ends <see cref="RunAsync"/>.</summary>
    private async Task CloseAsync(string text)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5), _s.Server.Time);
            await _control.WriteAsync(FtpReply.Of(ReplyCodes.ServiceNotAvailable, text), timeout.Token);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            _control.Shutdown();
            try
            {
                await _cts.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The session ended on its own meanwhile.
            }
        }
    }

    /// <summary>
    /// The server stops: the session's token is cancelled (a transfer then commits nothing) and its connection is
    /// shut, which ends the command loop's wait for the next command. A command that waits for the running
    /// transfer without a token ends with that transfer.
    /// </summary>
    internal void Abort()
    {
        End(SessionEndReason.ServerShutdown);
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended on its own meanwhile.
        }
        finally
        {
            _control.Shutdown();
        }
    }
}
