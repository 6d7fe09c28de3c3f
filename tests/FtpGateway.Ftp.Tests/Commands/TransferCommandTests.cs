using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Transfers;

namespace FtpGateway.Ftp.Tests.Commands;

/// <summary>What transfer commands answer before any data moves, and what they hand to the runner.</summary>
public sealed class TransferCommandTests
{
    [Fact]
    public async Task ATransferWithoutADataConnection_Is425()
    {
        await using var h = await SessionHarness.LoginAsync();
        File.WriteAllText(h.Root.File("f.txt"), "x");
        await h.ExpectAsync("RETR f.txt", ReplyCodes.CantOpenDataConnection);
        await h.ExpectAsync("STOR g.txt", ReplyCodes.CantOpenDataConnection);
        await h.ExpectAsync("LIST", ReplyCodes.CantOpenDataConnection);
    }

    [Fact]
    public async Task Stor_Answers150_WithAJobForTheUsersPathAndItsStoragePath()
    {
        await using var h = await SessionHarness.LoginAsync("jailed", "jail-pw");
        h.Session.Parameters.SetPendingData(new NeverOpeningDataChannel());
        var reply = await h.ExpectAsync("STOR slow.bin", ReplyCodes.FileStatusOkay);
        var job = reply.Transfer!;
        Assert.Equal(TransferDirection.Upload, job.Direction);
        Assert.Equal("/slow.bin", job.Path.Value);
        Assert.Equal("/home/jailed/slow.bin", job.StoragePath.Value);
        Assert.Null(h.Session.Parameters.PendingData); // handed over to the transfer
    }

    [Fact]
    public async Task Stat_DuringAJailedUsersTransfer_ShowsTheUsersPath()
    {
        await using var h = await SessionHarness.LoginAsync("jailed", "jail-pw");
        h.Session.Parameters.SetPendingData(new NeverOpeningDataChannel());
        await h.ExpectAsync("STOR slow.bin", ReplyCodes.FileStatusOkay);
        var stat = await h.ExpectAsync("STAT", ReplyCodes.SystemStatus);
        Assert.Contains("Transfer in progress: STOR /slow.bin, 0 bytes", stat.Lines);
        Assert.DoesNotContain(stat.Lines, l => l.Contains("home", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Abor_CutsTheTransferShort_ItsReplyComesFirst_ThenAborsOwn()
    {
        await using var h = await SessionHarness.LoginAsync();
        h.Session.Parameters.SetPendingData(new NeverOpeningDataChannel());
        await h.ExpectAsync("STOR never.bin", ReplyCodes.FileStatusOkay);
        await h.ExpectAsync("ABOR", ReplyCodes.ClosingData);
        Assert.Equal(ReplyCodes.TransferAborted, Assert.Single(h.TransferReplies).Code);
        Assert.False(File.Exists(h.Root.File("never.bin")));
        await h.ExpectAsync("ABOR", ReplyCodes.DataOpenNoTransfer);
    }

    [Fact]
    public async Task RestBeyondTheEnd_IsRefusedBeforeAnyDataMoves()
    {
        await using var h = await SessionHarness.LoginAsync();
        File.WriteAllText(h.Root.File("short.txt"), "abc");
        h.Session.Parameters.SetPendingData(new NeverOpeningDataChannel());
        await h.ExpectAsync("REST 10", ReplyCodes.PendingFurtherInformation);
        await h.ExpectAsync("STOR short.txt", ReplyCodes.InvalidRestartOffset);
        Assert.NotNull(h.Session.Parameters.PendingData); // still there for the next try
    }

    [Fact]
    public async Task ClearData_IsRefused_WhenTlsIsRequired()
    {
        await using var h = SessionHarness.Create(new FtpServerOptions { Tls = { Required = true }, LoginFailureDelay = TimeSpan.Zero });
        h.Session.Tls.Active = true; // as after AUTH TLS
        await h.ExpectAsync("USER alice", ReplyCodes.NeedPassword);
        await h.ExpectAsync("PASS secret-pw", ReplyCodes.LoggedIn);
        h.Session.Parameters.SetPendingData(new NeverOpeningDataChannel());
        await h.ExpectAsync("LIST", ReplyCodes.ProtectionLevelDenied);
    }
}
