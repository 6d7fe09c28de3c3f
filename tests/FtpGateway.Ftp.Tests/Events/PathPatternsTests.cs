using FtpGateway.Ftp.Events;

namespace FtpGateway.Ftp.Tests.Events;

public sealed class PathPatternsTests
{
    [Theory]
    [InlineData("**/DVRWorkDirectory", "/DVRWorkDirectory", true)]
    [InlineData("**/DVRWorkDirectory", "/cam1/2026-12-06/DVRWorkDirectory", true)]
    [InlineData("**/DVRWorkDirectory", "/cam1/DVRWorkDirectory.jpg", false)]
    [InlineData("DVRWorkDirectory", "/a/b/DVRWorkDirectory", true)]
    [InlineData("/cam*/tmp/*", "/cam7/tmp/x.jpg", true)]
    [InlineData("/cam*/tmp/*", "/other/cam7/tmp/x.jpg", false)]
    [InlineData("/cam*/tmp/*", "/cam7/tmp/deeper/x.jpg", false)]
    [InlineData("**/*.tmp", "/a/b/upload.tmp", true)]
    [InlineData("**/*.tmp", "/a/b/upload.jpg", false)]
    [InlineData("/a/**/z", "/a/z", true)]
    [InlineData("/a/**/z", "/a/b/c/z", true)]
    public void APattern_MatchesThePathsItNames(string pattern, string path, bool matches)
    {
        var errors = new List<string>();
        var patterns = PathPatterns.Parse([pattern], "Events:IgnorePaths", errors);
        Assert.Empty(errors);
        Assert.Equal(matches, patterns.Matches(path));
    }

    [Fact]
    public void ABadPattern_IsNamedByItsKey()
    {
        var errors = new List<string>();
        PathPatterns.Parse(["**/ok", "/"], "Events:IgnorePaths", errors);
        Assert.Equal(["Events:IgnorePaths:1 '/' is not a path pattern (segments of *, ?, [a-z] and **)"], errors);
    }
}
