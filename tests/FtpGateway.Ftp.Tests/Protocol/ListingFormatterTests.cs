using FtpGateway.Ftp.Protocol;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Tests.Protocol;

public sealed class ListingFormatterTests
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
