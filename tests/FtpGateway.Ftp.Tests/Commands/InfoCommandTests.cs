using FtpGateway.Ftp.Protocol;
using FtpGateway.TestSupport;

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
        Assert.Contains("MLST type*;size*;modify*;perm*;unique*;", features); // the local disk has a real unique id
        Assert.DoesNotContain("AUTH TLS", features); // no certificate
    }

    [Fact]
    public async Task OptsMlst_ChoosesTheFacts_ThatMlstThenShows()
    {
        await using var h = await SessionHarness.LoginAsync();
        File.WriteAllText(h.Root.File("f.txt"), "123");
        Assert.Equal("MLST OPTS type;size;", (await h.ExpectAsync("OPTS MLST type;size;", ReplyCodes.Okay)).Lines[0]);
        var mlst = await h.ExpectAsync("MLST f.txt", ReplyCodes.FileActionOkay);
        Assert.Equal(["Listing /f.txt", "type=file;size=3; /f.txt", "End"], mlst.Lines);
    }

    [Fact]
    public async Task TheUniqueFact_NamesTheFile_SoHardLinksShareIt_AndOtherFilesDoNot()
    {
        // RFC 3659 §7.5.2: the same value for every name of one file, different values for different files.
        await using var h = await SessionHarness.LoginAsync();
        File.WriteAllText(h.Root.File("a.txt"), "a");
        File.WriteAllText(h.Root.File("b.txt"), "b");
        Assert.Equal(0, (await ExternalProcess.RunAsync(ExternalProcess.Require("ln"), [h.Root.File("a.txt"), h.Root.File("a-again.txt")])).ExitCode);
        await h.ExpectAsync("OPTS MLST unique;", ReplyCodes.Okay);
        async Task<string> UniqueAsync(string name) => (await h.ExpectAsync("MLST " + name, ReplyCodes.FileActionOkay)).Lines[1];
        Assert.Equal((await UniqueAsync("a.txt")).Split(' ')[0], (await UniqueAsync("a-again.txt")).Split(' ')[0]);
        Assert.NotEqual((await UniqueAsync("a.txt")).Split(' ')[0], (await UniqueAsync("b.txt")).Split(' ')[0]);
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
