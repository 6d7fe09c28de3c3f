using FtpGateway.Ftp.Protocol;

namespace FtpGateway.Ftp.Tests.Commands;

/// <summary>DELE, RNFR/RNTO, SIZE, MDTM, MFMT and the permissions behind them, without a socket.</summary>
public sealed class FileCommandTests
{
    [Fact]
    public async Task RnfrThenRnto_Renames_AndAnyOtherCommandInBetweenForgetsTheSource()
    {
        await using var h = await SessionHarness.LoginAsync();
        File.WriteAllText(h.Root.File("a.txt"), "a");
        await h.ExpectAsync("RNFR a.txt", ReplyCodes.PendingFurtherInformation);
        Assert.Equal("/a.txt", h.Session.Parameters.RenameFrom?.Value);
        await h.ExpectAsync("NOOP", ReplyCodes.Okay);
        Assert.Null(h.Session.Parameters.RenameFrom);
        await h.ExpectAsync("RNTO b.txt", ReplyCodes.BadSequence);

        await h.ExpectAsync("RNFR a.txt", ReplyCodes.PendingFurtherInformation);
        await h.ExpectAsync("RNTO b.txt", ReplyCodes.FileActionOkay);
        Assert.Equal("a", File.ReadAllText(h.Root.File("b.txt")));
    }

    [Fact]
    public async Task SizeAndMdtm_DescribeAFile_AndMfmtSetsItsTime()
    {
        await using var h = await SessionHarness.LoginAsync();
        File.WriteAllText(h.Root.File("f.bin"), "12345");
        Assert.Equal("5", (await h.ExpectAsync("SIZE f.bin", ReplyCodes.FileStatus)).Lines[0]);
        Assert.Equal("Modify=20200102030405; /f.bin", (await h.ExpectAsync("MFMT 20200102030405 f.bin", ReplyCodes.FileStatus)).Lines[0]);
        Assert.Equal("20200102030405", (await h.ExpectAsync("MDTM f.bin", ReplyCodes.FileStatus)).Lines[0]);
        await h.ExpectAsync("MFMT 202001020304 f.bin", ReplyCodes.SyntaxErrorInParameters); // RFC 3659 times have seconds
        Assert.Equal("Modify=19691231235959; /f.bin", (await h.ExpectAsync("MFMT 19691231235959 f.bin", ReplyCodes.FileStatus)).Lines[0]);
        Assert.Equal("19691231235959", (await h.ExpectAsync("MDTM f.bin", ReplyCodes.FileStatus)).Lines[0]);
        Directory.CreateDirectory(h.Root.File("d"));
        Assert.Equal("Not a regular file.", (await h.ExpectAsync("SIZE d", ReplyCodes.FileUnavailable)).Lines[0]);
        Assert.Equal("No such file.", (await h.ExpectAsync("SIZE nothing", ReplyCodes.FileUnavailable)).Lines[0]);
    }

    [Fact]
    public async Task AReadOnlyUser_CanLookButNotChange()
    {
        await using var h = await SessionHarness.LoginAsync("reader", "read-pw");
        File.WriteAllText(h.Root.File("r.txt"), "r");
        await h.ExpectAsync("SIZE r.txt", ReplyCodes.FileStatus);
        foreach (var command in new[] { "DELE r.txt", "RNFR r.txt", "MKD x", "RMD x", "MFMT 20200101000000 r.txt", "STOR x", "APPE r.txt" })
        {
            Assert.Equal("Permission denied.", (await h.ExpectAsync(command, ReplyCodes.FileUnavailable)).Lines[0]);
        }

        Assert.True(File.Exists(h.Root.File("r.txt")));
    }

    [Fact]
    public async Task AWriteOnlyUser_CanAddButNotLookOrTakeAway()
    {
        await using var h = await SessionHarness.LoginAsync("drop", "drop-pw");
        File.WriteAllText(h.Root.File("img.jpg"), "i");
        await h.ExpectAsync("MKD day", ReplyCodes.PathCreated);
        foreach (var command in new[] { "SIZE img.jpg", "MDTM img.jpg", "DELE img.jpg", "RNFR img.jpg", "RETR img.jpg", "LIST", "MLST img.jpg", "HASH img.jpg" })
        {
            Assert.Equal("Permission denied.", (await h.ExpectAsync(command, ReplyCodes.FileUnavailable)).Lines[0]);
        }
    }

    [Fact]
    public async Task StorageFailures_AreFixedReplies()
    {
        await using var h = await SessionHarness.LoginAsync();
        var reply = await h.ExpectAsync("DELE missing.txt", ReplyCodes.FileUnavailable);
        Assert.Equal("No such file or directory.", reply.Lines[0]);
        await h.ExpectAsync("MKD /no/parent", ReplyCodes.FileUnavailable);
    }
}
