using FtpGateway.Ftp.Protocol;

namespace FtpGateway.Ftp.Tests.Protocol;

public sealed class GlobTests
{
    [Theory]
    [InlineData("*.txt", "a.txt", true)]
    [InlineData("*.txt", "a.txt.bak", false)]
    [InlineData("u*", "upload", true)]
    [InlineData("u*", "Upload", false)] // case-sensitive, as on the disk and the stores
    [InlineData("img_??.jpg", "img_01.jpg", true)]
    [InlineData("img_??.jpg", "img_1.jpg", false)]
    [InlineData("[ab]*", "beta", true)]
    [InlineData("[ab]*", "gamma", false)]
    [InlineData("log[0-9].csv", "log7.csv", true)]
    [InlineData("log[!0-9].csv", "log7.csv", false)]
    [InlineData("log[^0-9].csv", "logx.csv", true)]
    [InlineData("[]x]y", "]y", true)]
    [InlineData("a[b", "a[b", true)] // an unclosed class is literal
    [InlineData("*", ".hidden", false)] // as in a shell
    [InlineData(".*", ".hidden", true)]
    [InlineData("*a*a*a*", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", true)]
    [InlineData("*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", false)]
    [InlineData("*aaaaaaaab", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", true)]
    [InlineData("**x", "abx", true)]
    [InlineData("?*?", "ab", true)]
    [InlineData("?*?", "a", false)]
    [InlineData("*", "", true)]
    [InlineData("caf\u00e9*", "caf\u00e9-2026.jpg", true)] // beyond ASCII
    [InlineData("[\u00e0-\u00ff]*", "\u00e9t\u00e9", true)]
    public void Matches_LikeAShell(string pattern, string name, bool matches) =>
        Assert.Equal(matches, Glob.For(pattern)!.IsMatch(name));

    [Fact]
    public void APlainName_IsNoPattern() => Assert.Null(Glob.For("report.csv"));

    [Fact]
    public void APatternBeyondTheLimits_IsRefused()
    {
        Assert.False(Glob.TryCreate("*[!" + new string('x', 4000) + "]", out _)); // the attack of the report: 4,000 characters
        Assert.False(Glob.TryCreate(string.Concat(Enumerable.Repeat("?", 64)), out _));
        Assert.True(Glob.TryCreate(string.Concat(Enumerable.Repeat("?", 63)), out _));
        Assert.True(Glob.TryCreate("*[!" + new string('x', 250) + "]", out _)); // one long class is one element
    }
}
