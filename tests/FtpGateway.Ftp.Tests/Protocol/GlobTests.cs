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
    public void Matches_LikeAShell(string pattern, string name, bool matches) =>
        Assert.Equal(matches, Glob.For(pattern)!.IsMatch(name));

    [Fact]
    public void APlainName_IsNoPattern() => Assert.Null(Glob.For("report.csv"));
}
