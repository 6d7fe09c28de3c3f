using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Transfers;

namespace FtpGateway.Ftp.Tests.Commands;

/// <summary>TYPE, REST, PORT/EPRT, PASV/EPSV: what they set up for the next transfer, without a control socket.</summary>
public sealed class ParameterCommandTests
{
    [Fact]
    public async Task Type_AndRest_SetTheNextTransfersParameters()
    {
        await using var h = await SessionHarness.LoginAsync();
        await h.ExpectAsync("TYPE A", ReplyCodes.Okay);
        Assert.True(h.Session.Parameters.Ascii);
        await h.ExpectAsync("REST 0", ReplyCodes.PendingFurtherInformation); // dataloggers send TYPE A, then REST 0
        await h.ExpectAsync("REST 1234", ReplyCodes.PendingFurtherInformation);
        Assert.Equal(1234, h.Session.Parameters.RestOffset);
        await h.ExpectAsync("REST -1", ReplyCodes.SyntaxErrorInParameters);
        await h.ExpectAsync("TYPE I", ReplyCodes.Okay);
        Assert.False(h.Session.Parameters.Ascii);
    }

    [Fact]
    public async Task Port_ToTheClientsOwnAddress_IsAccepted_AndBounceTargetsAreNot()
    {
        await using var h = await SessionHarness.LoginAsync();
        await h.ExpectAsync("PORT 127,0,0,1,200,10", ReplyCodes.Okay);
        Assert.IsType<ActiveDataChannel>(h.Session.Parameters.PendingData);
        await h.ExpectAsync("PORT 10,0,0,1,200,10", ReplyCodes.SyntaxErrorInParameters);
        await h.ExpectAsync("PORT 127,0,0,1,0,21", ReplyCodes.SyntaxErrorInParameters);
        await h.ExpectAsync("EPRT |2|::1|50000|", ReplyCodes.SyntaxErrorInParameters);
        await h.ExpectAsync("EPRT |3|x|1|", ReplyCodes.NetworkProtocolNotSupported);
    }

    [Fact]
    public async Task Epsv_ListensOnAPort_AndEpsvAllLocksOutTheOthers()
    {
        await using var h = await SessionHarness.LoginAsync();
        var reply = await h.ExpectAsync("EPSV", ReplyCodes.EnteringExtendedPassive);
        var channel = Assert.IsType<PassiveDataChannel>(h.Session.Parameters.PendingData);
        Assert.Equal($"Entering Extended Passive Mode (|||{channel.Port}|)", reply.Lines[0]);
        await h.ExpectAsync("EPSV ALL", ReplyCodes.Okay);
        await h.ExpectAsync("PASV", ReplyCodes.BadSequence);
        await h.ExpectAsync("PORT 127,0,0,1,200,10", ReplyCodes.BadSequence);
    }

    [Fact]
    public async Task Pasv_AdvertisesTheControlConnectionsAddress()
    {
        await using var h = await SessionHarness.LoginAsync();
        var reply = await h.ExpectAsync("PASV", ReplyCodes.EnteringPassive);
        var port = ((PassiveDataChannel)h.Session.Parameters.PendingData!).Port;
        Assert.Equal($"Entering Passive Mode (127,0,0,1,{port >> 8},{port & 0xFF}).", reply.Lines[0]);
    }
}
