using FtpGateway.Ftp.Checks;

namespace FtpGateway.Ftp.Tests.Checks;

public sealed class QuarantineSpoolTests
{
    [Fact]
    public void ASpool_KeepsWhatTheBudgetAllows_GivesItBackWhenDone_AndNeverFailsTheUpload()
    {
        var budget = new SpoolBudget(10);
        using (var first = QuarantineSpool.Create(Path.GetTempPath(), budget)!)
        {
            first.Write(new byte[8], scanning: true);
            Assert.True(first.Whole);
            using var second = QuarantineSpool.Create(Path.GetTempPath(), budget)!;
            second.Write(new byte[8], scanning: true); // only 2 bytes left: it stops, the upload goes on
            Assert.False(second.Whole);
            first.Write(new byte[2], scanning: true);
            Assert.True(first.Whole);
        }

        using var third = QuarantineSpool.Create(Path.GetTempPath(), budget)!;
        third.Write(new byte[10], scanning: true); // the first gave its bytes back
        Assert.True(third.Whole);
        third.Write(new byte[1], scanning: false); // the scanner stopped taking the stream
        Assert.False(third.Whole);
    }

    [Fact]
    public void NoSpool_WhereNoneCanBeMade() =>
        Assert.Null(QuarantineSpool.Create(Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N")), new SpoolBudget(10)));
}
