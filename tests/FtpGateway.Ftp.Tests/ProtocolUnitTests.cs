using System.Text;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Tests;

public class ControlLineReaderTests
{
    private static async Task<List<ControlLine>> ReadAll(byte[] input, int max = 64)
    {
        var reader = new ControlLineReader(max);
        var stream = new MemoryStream(input);
        var lines = new List<ControlLine>();
        while (await reader.ReadLineAsync(stream, CancellationToken.None) is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    private static async Task<string[]> Texts(byte[] input) => (await ReadAll(input)).Select(l => l.Text).ToArray();

    [Fact]
    public async Task CrLf_Lf_AndLoneCr_AllEndALine() =>
        Assert.Equal(["USER a", "PASS b", "ABOR", "NOOP"], await Texts("USER a\r\nPASS b\nABOR\rNOOP\r\n"u8.ToArray()));

    [Fact]
    public async Task TelnetInterruptAndSynch_BeforeAbor_AreStripped()
    {
        // IAC IP IAC DM ABOR CRLF, as RFC 959 §4.1.3 describes.
        Assert.Equal(["ABOR"], await Texts([255, 244, 255, 242, .. "ABOR\r\n"u8]));
    }

    [Fact]
    public async Task ALoneIac_WhoseCommandByteWentOutOfBand_DoesNotEatTheVerb()
    {
        // IAC IP IAC, then DM sent as urgent data (not in the stream), then ABOR.
        Assert.Equal(["ABOR"], await Texts([255, 244, 255, .. "ABOR\r\n"u8]));
    }

    [Fact]
    public async Task TelnetNegotiation_IsDropped_AndIacIac_IsA255Byte()
    {
        var lines = await Texts([255, 253, 1, .. "NOOP\r\n"u8, .. "X"u8, 255, 255, .. "Y\r\n"u8]);
        Assert.Equal("NOOP", lines[0]);
        Assert.Equal("X\u00ffY", lines[1]); // 0xFF is not valid UTF-8 alone: the line is read as Latin-1
    }

    [Fact]
    public async Task Utf8Paths_AreDecoded() =>
        Assert.Equal(["STOR Grüße.txt"], await Texts(Encoding.UTF8.GetBytes("STOR Grüße.txt\r\n")));

    [Fact]
    public async Task AnOverlongLine_IsReportedOnce_AndTheNextLineIsIntact()
    {
        var lines = await ReadAll(Encoding.ASCII.GetBytes(new string('A', 500) + "\r\nNOOP\r\n"), max: 64);
        Assert.Equal(2, lines.Count);
        Assert.True(lines[0].TooLong);
        Assert.Equal("NOOP", lines[1].Text);
    }

    [Fact]
    public async Task TheLfOfACrLfSplitAcrossReads_IsNotAnEmptyLine()
    {
        var reader = new ControlLineReader(64);
        var pipe = new ChunkedStream(["NOOP\r"u8.ToArray(), "\nPWD\r\n"u8.ToArray()]);
        Assert.Equal("NOOP", (await reader.ReadLineAsync(pipe, CancellationToken.None))!.Value.Text);
        Assert.Equal("PWD", (await reader.ReadLineAsync(pipe, CancellationToken.None))!.Value.Text);
        Assert.Null(await reader.ReadLineAsync(pipe, CancellationToken.None));
    }

    private sealed class ChunkedStream(byte[][] chunks) : MemoryStream
    {
        private int _next;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_next == chunks.Length)
            {
                return ValueTask.FromResult(0);
            }

            var chunk = chunks[_next++];
            chunk.CopyTo(buffer);
            return ValueTask.FromResult(chunk.Length);
        }
    }
}

public class AsciiConversionTests
{
    [Theory]
    [InlineData("a\nb\n", "a\r\nb\r\n")]
    [InlineData("a\r\nb", "a\r\nb")]
    [InlineData("lone\rcr", "lone\rcr")]
    [InlineData("", "")]
    public void ToNetwork_TurnsLfIntoCrLfOnce(string stored, string network)
    {
        var input = Encoding.ASCII.GetBytes(stored);
        var output = new byte[input.Length * 2];
        var lastWasCr = false;
        var n = AsciiConversion.ToNetwork(input, output, ref lastWasCr);
        Assert.Equal(network, Encoding.ASCII.GetString(output, 0, n));
    }

    [Fact]
    public void ToNetwork_RemembersACrAtTheEndOfAChunk()
    {
        var output = new byte[8];
        var lastWasCr = false;
        var n1 = AsciiConversion.ToNetwork("a\r"u8, output, ref lastWasCr);
        var n2 = AsciiConversion.ToNetwork("\nb"u8, output.AsSpan(n1), ref lastWasCr);
        Assert.Equal("a\r\nb", Encoding.ASCII.GetString(output, 0, n1 + n2));
    }

    [Theory]
    [InlineData("a\r\nb\r\n", "a\nb\n")]
    [InlineData("keep\rlone", "keep\rlone")]
    [InlineData("ends with cr\r", "ends with cr\r")]
    [InlineData("unix\nonly", "unix\nonly")]
    public async Task UploadStream_TurnsCrLfIntoLf(string network, string stored)
    {
        // One byte at a time, to cross every chunk boundary.
        var source = new OneByteStream(Encoding.ASCII.GetBytes(network));
        using var result = new MemoryStream();
        await new AsciiUploadStream(source).CopyToAsync(result);
        Assert.Equal(stored, Encoding.ASCII.GetString(result.ToArray()));
    }

    private sealed class OneByteStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
    }
}

public class ListingFormatterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void FormatList_RecentFile_LooksLikeLsL() =>
        Assert.Equal(
            "-rw-r--r-- 1 ftp ftp          1234 Nov  2 09:05 report.csv",
            ListingFormatter.FormatList(new StorageEntry(StoragePath.Parse("/report.csv"), false, 1234, new DateTimeOffset(2026, 11, 2, 9, 5, 0, TimeSpan.Zero)), Now, true));

    [Fact]
    public void FormatList_OldDirectory_ShowsTheYear() =>
        Assert.Equal(
            "dr-xr-xr-x 1 ftp ftp             0 Jan 15  2024 archive",
            ListingFormatter.FormatList(new StorageEntry(StoragePath.Parse("/archive"), true, 0, new DateTimeOffset(2024, 1, 15, 0, 0, 0, TimeSpan.Zero)), Now, false));

    [Fact]
    public void FormatFacts_FollowsRfc3659()
    {
        var entry = new StorageEntry(StoragePath.Parse("/a b.txt"), false, 42, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)) { UniqueId = "u1" };
        Assert.Equal("type=file;size=42;modify=20260102030405;perm=r;unique=u1; a b.txt", ListingFormatter.FormatFacts(entry, MlstFacts.All, "r", "a b.txt"));
        Assert.Equal("type=file; a b.txt", ListingFormatter.FormatFacts(entry, MlstFacts.Type, "r", "a b.txt"));
    }

    [Fact]
    public void Time_RoundTripsWithMilliseconds()
    {
        var t = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);
        Assert.Equal("20260102030405.678", ListingFormatter.FormatTime(t));
        Assert.True(ListingFormatter.TryParseTime("20260102030405.678", out var parsed));
        Assert.Equal(t, parsed);
        Assert.False(ListingFormatter.TryParseTime("2026-01-02", out _));
    }

    [Fact]
    public void OptsMlst_ParsesKnownFactsAndIgnoresOthers() =>
        Assert.Equal(MlstFacts.Type | MlstFacts.Size, ListingFormatter.ParseFacts("TYPE;size;UNIX.mode;"));
}

public class ReplyMapperTests
{
    [Theory]
    [InlineData(StorageErrorKind.NotFound, 550)]
    [InlineData(StorageErrorKind.AccessDenied, 550)]
    [InlineData(StorageErrorKind.DirectoryNotEmpty, 550)]
    [InlineData(StorageErrorKind.InvalidName, 553)]
    [InlineData(StorageErrorKind.InsufficientStorage, 552)]
    [InlineData(StorageErrorKind.NotSupported, 504)]
    [InlineData(StorageErrorKind.InvalidRange, 554)]
    [InlineData(StorageErrorKind.Unavailable, 451)]
    public void EveryKind_MapsToItsReplyCode(StorageErrorKind kind, int code) => Assert.Equal(code, ReplyMapper.Map(kind).Code);

    [Fact]
    public void EveryKind_HasAFixedClientText()
    {
        foreach (var kind in Enum.GetValues<StorageErrorKind>())
        {
            var (code, text) = ReplyMapper.Map(kind);
            Assert.InRange(code, 400, 599);
            Assert.False(string.IsNullOrWhiteSpace(text));
        }
    }
}

public class UserTests
{
    [Fact]
    public void PasswordHash_VerifiesOnlyTheRightPassword()
    {
        var hash = PasswordHasher.Hash("correct horse", 10_000);
        Assert.StartsWith("pbkdf2-sha256$10000$", hash, StringComparison.Ordinal);
        Assert.True(PasswordHasher.Verify("correct horse", hash));
        Assert.False(PasswordHasher.Verify("correct horsE", hash));
        Assert.False(PasswordHasher.Verify("x", "not-a-hash"));
        Assert.NotEqual(hash, PasswordHasher.Hash("correct horse", 10_000)); // salted
    }

    [Fact]
    public void Directory_AuthenticatesPlainAndHashedUsers_AndAnonymousOnlyWhenEnabled()
    {
        var users = new UserDirectory(
            [
                new UserOptions { Name = "plain", Password = "p1", Root = "/plain" },
                new UserOptions { Name = "hashed", PasswordHash = PasswordHasher.Hash("p2", 10_000), Permissions = UserPermissions.WriteOnly },
            ],
            new AnonymousOptions());
        Assert.Equal("/plain", users.Authenticate("plain", "p1")!.Root.Value);
        Assert.Null(users.Authenticate("plain", "p2"));
        Assert.Equal(UserPermissions.WriteOnly, users.Authenticate("hashed", "p2")!.Permissions);
        Assert.Null(users.Authenticate("nobody", "p1"));
        Assert.Null(users.Authenticate("anonymous", "me@example.com"));

        var withAnonymous = new UserDirectory([], new AnonymousOptions { Enabled = true, Root = "/pub" });
        var anon = withAnonymous.Authenticate("ftp", "anything");
        Assert.NotNull(anon);
        Assert.Equal(UserPermissions.ReadOnly, anon.Permissions);
        Assert.Equal("/pub", anon.Root.Value);
    }

    [Theory]
    [InlineData("", "p", null)]
    [InlineData("u", null, null)]
    [InlineData("u", null, "garbage")]
    public void Directory_RejectsInvalidEntriesAtStartUp(string name, string? password, string? hash) =>
        Assert.Throws<InvalidOperationException>(() => new UserDirectory([new UserOptions { Name = name, Password = password, PasswordHash = hash }], new AnonymousOptions()));

    [Fact]
    public void Options_Validation_NamesTheBadKey()
    {
        var result = new FtpServerOptionsValidator().Validate(null, new FtpServerOptions { PassivePortRange = "60000-50000", PublicAddress = "not-an-ip", Port = 70000 });
        Assert.True(result.Failed);
        Assert.Contains("Ftp:PassivePortRange", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Ftp:PublicAddress", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Ftp:Port", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new FtpServerOptionsValidator().Validate(null, new FtpServerOptions { PassivePortRange = "50000-50099" }).Succeeded);
    }
}
