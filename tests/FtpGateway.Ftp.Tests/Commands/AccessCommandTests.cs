using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Sessions;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Commands;

/// <summary>USER, PASS, REIN, QUIT as returned replies and session state, without a socket.</summary>
public sealed class AccessCommandTests
{
    [Fact]
    public async Task Pass_WithTheRightPassword_LogsIn_AndCreatesAJailedUsersRoot()
    {
        await using var h = SessionHarness.Create();
        await h.ExpectAsync("USER jailed", ReplyCodes.NeedPassword);
        Assert.Null(h.Session.Login.User);
        await h.ExpectAsync("PASS jail-pw", ReplyCodes.LoggedIn);
        Assert.Equal("jailed", h.Session.Login.User!.Name);
        Assert.True(Directory.Exists(h.Root.File("home/jailed")));
    }

    [Fact]
    public async Task WrongPasswords_Count_AndTheLastOneClosesTheSession()
    {
        await using var h = SessionHarness.Create();
        for (var i = 1; i < 3; i++)
        {
            await h.ExpectAsync("USER alice", ReplyCodes.NeedPassword);
            var refused = await h.ExpectAsync("PASS wrong", ReplyCodes.NotLoggedIn);
            Assert.Null(refused.EndsSession);
            Assert.Equal(i, h.Session.Login.Failures);
        }

        await h.ExpectAsync("USER alice", ReplyCodes.NeedPassword);
        var last = await h.ExpectAsync("PASS wrong", ReplyCodes.ServiceNotAvailable);
        Assert.Equal(SessionEndReason.TooManyLoginFailures, last.EndsSession);
    }

    [Fact]
    public async Task PassWithoutUser_IsABadSequence()
    {
        await using var h = SessionHarness.Create();
        Assert.Equal("Log in with USER first.", (await h.ExpectAsync("PASS x", ReplyCodes.BadSequence)).Lines[0]);
    }

    [Fact]
    public async Task Rein_ForgetsTheLoginAndTheTransferParameters()
    {
        await using var h = await SessionHarness.LoginAsync();
        await h.ExpectAsync("MKD d", ReplyCodes.PathCreated);
        await h.ExpectAsync("CWD d", ReplyCodes.FileActionOkay);
        await h.ExpectAsync("TYPE A", ReplyCodes.Okay);
        await h.ExpectAsync("REST 5", ReplyCodes.PendingFurtherInformation);
        await h.ExpectAsync("REIN", ReplyCodes.ServiceReady);
        Assert.Null(h.Session.Login.User);
        Assert.Equal(UserPath.Root, h.Session.Navigation.WorkingDirectory);
        Assert.False(h.Session.Parameters.Ascii);
        Assert.Equal(0, h.Session.Parameters.RestOffset);
        await h.ExpectAsync("PWD", ReplyCodes.NotLoggedIn);
    }

    [Fact]
    public async Task Quit_EndsTheSessionAfterItsReply()
    {
        await using var h = await SessionHarness.LoginAsync();
        var reply = await h.ExpectAsync("QUIT", ReplyCodes.ClosingControl);
        Assert.Equal(SessionEndReason.ClientQuit, reply.EndsSession);
    }

    [Fact]
    public async Task User_OnAClearConnection_IsRefused_WhenTlsIsRequired()
    {
        await using var h = SessionHarness.Create(new FtpServerOptions { Tls = { Required = true } });
        await h.ExpectAsync("USER " + TestServer.UserName, ReplyCodes.NotLoggedIn);
        Assert.Null(h.Session.Login.PendingUser);
    }
}
