using FtpGateway.Ftp.Protocol;

namespace FtpGateway.Ftp.Tests.Commands;

/// <summary>CWD, CDUP, PWD, MKD, RMD: paths as the user sees them, without a socket.</summary>
public sealed class NavigationCommandTests
{
    [Fact]
    public async Task Cwd_ChangesTheWorkingDirectory_AndCdupClimbsButNotAboveTheRoot()
    {
        await using var h = await SessionHarness.LoginAsync();
        await h.ExpectAsync("MKD /a", ReplyCodes.PathCreated);
        await h.ExpectAsync("MKD /a/b", ReplyCodes.PathCreated);
        Assert.Equal("Directory changed to \"/a/b\".", (await h.ExpectAsync("CWD a/b", ReplyCodes.FileActionOkay)).Lines[0]);
        Assert.Equal("\"/a/b\" is the current directory.", (await h.ExpectAsync("PWD", ReplyCodes.PathCreated)).Lines[0]);
        await h.ExpectAsync("CDUP", ReplyCodes.Okay);
        await h.ExpectAsync("CDUP", ReplyCodes.Okay);
        await h.ExpectAsync("CDUP", ReplyCodes.Okay);
        Assert.Equal("\"/\" is the current directory.", (await h.ExpectAsync("PWD", ReplyCodes.PathCreated)).Lines[0]);
    }

    [Fact]
    public async Task Cwd_ToAFileOrNothing_Is550_AndLeavesTheDirectory()
    {
        await using var h = await SessionHarness.LoginAsync();
        File.WriteAllText(h.Root.File("f.txt"), "x");
        Assert.Equal("Not a directory.", (await h.ExpectAsync("CWD f.txt", ReplyCodes.FileUnavailable)).Lines[0]);
        Assert.Equal("No such directory.", (await h.ExpectAsync("CWD nothing", ReplyCodes.FileUnavailable)).Lines[0]);
        Assert.Equal("/", h.Session.Navigation.WorkingDirectory.Value);
    }

    [Fact]
    public async Task AJailedUser_SeesItsRootAsSlash_AndCannotClimbOut()
    {
        await using var h = await SessionHarness.LoginAsync("jailed", "jail-pw");
        Assert.Equal("\"/made\" created.", (await h.ExpectAsync("MKD ../../made", ReplyCodes.PathCreated)).Lines[0]);
        Assert.True(Directory.Exists(h.Root.File("home/jailed/made")));
        await h.ExpectAsync("CWD /../..", ReplyCodes.FileActionOkay);
        Assert.Equal("\"/\" is the current directory.", (await h.ExpectAsync("PWD", ReplyCodes.PathCreated)).Lines[0]);
    }

    [Fact]
    public async Task Rmd_RefusesTheRoot_AndANonEmptyDirectory()
    {
        await using var h = await SessionHarness.LoginAsync();
        await h.ExpectAsync("MKD full", ReplyCodes.PathCreated);
        File.WriteAllText(h.Root.File("full/x"), "x");
        await h.ExpectAsync("RMD /", ReplyCodes.FileUnavailable);
        Assert.Equal("Directory not empty.", (await h.ExpectAsync("RMD full", ReplyCodes.FileUnavailable)).Lines[0]);
        File.Delete(h.Root.File("full/x"));
        await h.ExpectAsync("RMD full", ReplyCodes.FileActionOkay);
    }

    [Fact]
    public async Task ANameWithAControlCharacter_IsNotAllowed()
    {
        await using var h = await SessionHarness.LoginAsync();
        await h.ExpectAsync("MKD bad\u0001name", ReplyCodes.FileNameNotAllowed);
    }
}
