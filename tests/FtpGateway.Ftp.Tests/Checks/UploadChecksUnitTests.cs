using System.Text;
using FtpGateway.Ftp.Checks;
using FtpGateway.Ftp.Users;

namespace FtpGateway.Ftp.Tests.Checks;

/// <summary>The rules of the checks before commit, without a server: extensions, content signatures, clamd's answers.</summary>
public sealed class UploadChecksUnitTests
{
    [Theory]
    [InlineData("photo.JPG", "jpg")]
    [InlineData("archive.tar.gz", "gz")]
    [InlineData("evil.exe.", "exe")]
    [InlineData("evil.exe  ", "exe")]
    [InlineData(".profile", "")]
    [InlineData("README", "")]
    [InlineData("name.", "")]
    public void TheExtension_IsWhatFollowsTheLastDot_LowerCase_TrailingDotsAndSpacesIgnored(string name, string extension) =>
        Assert.Equal(extension, UploadChecks.ExtensionOf(name));

    [Fact]
    public void TypeRules_AllowAndDeny_ByExtension_CaseInsensitive()
    {
        var errors = new List<string>();
        var checks = UploadChecks.Parse(new UserOptions { AllowedFileTypes = [".JPG", "pdf"], DeniedFileTypes = ["pdf"] }, "Users:0", errors);
        Assert.Empty(errors);
        Assert.Null(checks.RefuseName("a.jpg"));
        Assert.Contains("type .pdf", checks.RefuseName("b.PDF"), StringComparison.Ordinal); // denied wins
        Assert.Contains("allowed: jpg", checks.RefuseName("c.png"), StringComparison.Ordinal);
        Assert.Contains("without an extension", checks.RefuseName("notes"), StringComparison.Ordinal);

        UploadChecks.Parse(new UserOptions { DeniedFileTypes = ["*.exe", "a b"], MinUploadBytes = -1 }, "Users:3", errors);
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("Users:3:DeniedFileTypes '*.exe'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("jpg", new byte[] { 0xFF, 0xD8, 0xFF, 0xE1 }, true)]
    [InlineData("jpg", new byte[] { 0x89, 0x50, 0x4E, 0x47 }, false)]
    [InlineData("png", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, true)]
    [InlineData("gif", new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a' }, true)]
    [InlineData("tif", new byte[] { (byte)'I', (byte)'I', (byte)'*', 0 }, true)]
    [InlineData("tiff", new byte[] { (byte)'M', (byte)'M', 0, (byte)'+' }, true)] // BigTIFF
    [InlineData("mp4", new byte[] { 0, 0, 0, 0x20, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m' }, true)]
    [InlineData("mov", new byte[] { 0, 0, 0, 8, (byte)'w', (byte)'i', (byte)'d', (byte)'e' }, true)]
    [InlineData("mp4", new byte[] { 0, 0, 0, 8, (byte)'f', (byte)'r', (byte)'e', (byte)'e' }, false)]
    [InlineData("pdf", new byte[] { (byte)'%', (byte)'P', (byte)'D', (byte)'F', (byte)'-' }, true)]
    [InlineData("zip", new byte[] { (byte)'P', (byte)'K', 3, 4 }, true)]
    [InlineData("gz", new byte[] { 0x1F, 0x8B, 8 }, true)]
    [InlineData("xml", new byte[] { 0xEF, 0xBB, 0xBF, (byte)'<', (byte)'?' }, true)]
    [InlineData("xml", new byte[] { 0xFF, 0xFE, (byte)'<', 0 }, true)] // UTF-16
    [InlineData("xml", new byte[] { (byte)'h', (byte)'i' }, false)]
    [InlineData("txt", new byte[] { (byte)'o', (byte)'k', 0x1B, (byte)'[', (byte)'m', (byte)'\n' }, true)]
    [InlineData("csv", new byte[] { (byte)'a', 0, (byte)'b' }, false)]
    [InlineData("bin", new byte[] { 0, 1, 2 }, true)] // a type the check does not know passes
    public void ContentSignatures_MatchTheCommonTypes(string extension, byte[] head, bool matches) =>
        Assert.Equal(matches, ContentSignatures.Mismatch(extension, head) is null);

    [Fact]
    public void ClamdAnswers_AreParsed()
    {
        Assert.IsType<ScanVerdict.Clean>(ScanSession.Parse("stream: OK"));
        Assert.Equal(new ScanVerdict.Infected("Eicar-Test-Signature"), ScanSession.Parse("stream: Eicar-Test-Signature FOUND"));
        Assert.IsType<ScanVerdict.OverLimit>(ScanSession.Parse("INSTREAM size limit exceeded. ERROR"));
        Assert.IsType<ScanVerdict.OverLimit>(ScanSession.Parse("stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND"));
        Assert.IsType<ScanVerdict.Failed>(ScanSession.Parse("Can't allocate memory ERROR"));
        Assert.IsType<ScanVerdict.Failed>(ScanSession.Parse(string.Empty));
    }

    [Theory]
    [InlineData("tcp://127.0.0.1:3310", true)]
    [InlineData("tcp://[::1]:3310", true)]
    [InlineData("tcp://clamd.scanning.svc:3310", true)]
    [InlineData("unix:/run/clamav/clamd.ctl", true)]
    [InlineData("clamd:3310", false)]
    [InlineData("tcp://127.0.0.1", false)]
    [InlineData("http://127.0.0.1:3310", false)]
    public void ClamdAddresses_AreTcpOrUnix(string address, bool valid) =>
        Assert.Equal(valid, ClamdScanner.ParseAddress(address) is not null);

    [Fact]
    public async Task AScannerThatCannotBeReached_GivesAFailedVerdict_NotAnException()
    {
        var port = FtpGateway.TestSupport.FreePorts.One(); // nothing listens there
        var scanner = new ClamdScanner(ClamdScanner.ParseAddress($"tcp://127.0.0.1:{port}")!, TimeSpan.FromSeconds(5), TimeProvider.System);
        using var scan = await scanner.StartAsync(CancellationToken.None);
        await scan.WriteAsync(Encoding.ASCII.GetBytes("data"), CancellationToken.None);
        var verdict = Assert.IsType<ScanVerdict.Failed>(await scan.VerdictAsync(CancellationToken.None));
        Assert.Contains("cannot be reached", verdict.Reason, StringComparison.Ordinal);
    }
}
