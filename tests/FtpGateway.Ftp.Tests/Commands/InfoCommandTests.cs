using FtpGateway.Ftp.Protocol;

namespace FtpGateway.Ftp.Tests.Commands;

/// <summary>FEAT, OPTS, HELP, STAT and MLST replies, without a socket.</summary>
public sealed class InfoCommandTests
{
    [Fact]
    public async Task Feat_ListsOnlyWhatThisStorageFills()
    {
        await using var h = SessionHarness.Create();
        var features = (await h.ExpectAsync("FEAT", ReplyCodes.SystemStatus)).Lines;
        Assert.Equal("Features:", features[0]);
        Assert.Equal("End", features[^1]);
        Assert.Contains("MLST type*;size*;modify*;perm*;", features); // no "unique": no provider fills it
        Assert.DoesNotContain("AUTH TLS", features); // no certificate
    }

    [Fact]
    public async Task OptsMlst_ChoosesTheFacts_ThatMlstThenShows()
    {
        await using var h = await SessionHarness.LoginAsync();
        File.WriteAllText(h.Root.File("f.txt"), "123");
        Assert.Equal("MLST OPTS type;size;", (await h.ExpectAsync("OPTS MLST type;size;unique;", ReplyCodes.Okay)).Lines[0]);
        var mlst = await h.ExpectAsync("MLST f.txt", ReplyCodes.FileActionOkay);
        Assert.Equal(["Listing /f.txt", "type=file;size=3; /f.txt", "End"], mlst.Lines);
    }

    [Fact]
    public async Task Stat_OfADirectory_StreamsItsEntries()
    {
        await using var h = await SessionHarness.LoginAsync();
        File.WriteAllText(h.Root.File("one.txt"), "1");
        File.WriteAllText(h.Root.File("two.txt"), "22");
        var reply = await h.ExpectAsync("STAT /", ReplyCodes.DirectoryStatus);
        Assert.NotNull(reply.Body);
        var lines = await SessionHarness.LinesAsync(reply);
        Assert.Equal("Status of /:", lines[0]);
        Assert.Equal("End of status.", lines[^1]);
        Assert.Contains(lines, l => l.EndsWith(" one.txt", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith(" two.txt", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Help_NamesACommandsSyntax_AndSiteHelpListsSiteCommands()
    {
        await using var h = SessionHarness.Create();
        Assert.Equal("Syntax: RETR <file>", (await h.ExpectAsync("HELP retr", ReplyCodes.Help)).Lines[0]);
        await h.ExpectAsync("HELP NOSUCH", ReplyCodes.NotImplemented);
        await h.ExpectAsync("AUTH TLS", ReplyCodes.NotImplemented);
        await h.ExpectAsync("PBSZ 0", ReplyCodes.BadSequence);
    }
}
