using System.Text.Json;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>The audit file, as JSON lines and as xferlog, written by the real host for real clients' transfers.</summary>
public sealed class AuditTests
{
    private static async Task<string[]> LinesAsync(string file, int count)
    {
        string[] lines = [];
        await Poll.UntilAsync(
            () => File.Exists(file) && (lines = File.ReadAllLines(file)).Length >= count,
            $"{count} audit lines");
        return lines;
    }

    [Fact]
    public async Task Xferlog_HasOneLinePerFinishedTransfer_InTheClassicFormat()
    {
        using var work = new TempDirectory();
        var audit = work.File("xferlog");
        await using var gateway = await Gateway.StartAsync(new Dictionary<string, string?> { ["Audit:File"] = audit, ["Audit:Format"] = "Xferlog" });
        await File.WriteAllBytesAsync(work.File("in.bin"), new byte[12345]);
        var curl = ExternalProcess.Require("curl");
        Assert.Equal(0, (await ExternalProcess.RunAsync(curl, ["-sS", "-T", work.File("in.bin"), $"{gateway.UserUrl}/reports/in.bin", "--ftp-create-dirs"])).ExitCode);
        Assert.Equal(0, (await ExternalProcess.RunAsync(curl, ["-sS", "-o", work.File("out.bin"), $"{gateway.UserUrl}/reports/in.bin"])).ExitCode);
        Assert.NotEqual(0, (await ExternalProcess.RunAsync(curl, ["-sS", "-o", work.File("none.bin"), $"{gateway.UserUrl}/reports/missing.bin"])).ExitCode);

        var lines = await LinesAsync(audit, 2);
        Assert.Equal(2, lines.Length); // a RETR refused before its 150 is not a transfer
        // current-time(5 fields) transfer-time remote-host file-size filename type flag direction mode user service auth id status
        var upload = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(18, upload.Length);
        Assert.Equal(["127.0.0.1", "12345", "/reports/in.bin", "b", "_", "i", "r", Gateway.User, "ftp", "0", "*", "c"], upload[6..]);
        Assert.Matches(@"^\w{3} \w{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4} \d+ ", lines[0]);
        Assert.Equal(["o", "r", Gateway.User], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[^7..^4]);
    }

    [Fact]
    public async Task JsonAudit_RecordsWhoWhatWhereAndHowItEnded()
    {
        using var work = new TempDirectory();
        var audit = work.File("audit.jsonl");
        await using var gateway = await Gateway.StartAsync(new Dictionary<string, string?> { ["Audit:File"] = audit });
        await using (var c = await RawFtpClient.LoginAsync(gateway.Port, Gateway.User, Gateway.Password))
        {
            Assert.Equal(226, (await c.UploadAsync("STOR ok.bin", new byte[100])).Code);
            using var data = await c.OpenPassiveAsync();
            await c.ExpectAsync("STOR cut.bin", 150);
            await data.SendAsync(new byte[10]);
            await c.SendRawAsync("ABOR\r\n"u8.ToArray());
            Assert.Equal(426, (await c.ReadReplyAsync()).Code);
            Assert.Equal(226, (await c.ReadReplyAsync()).Code);
        }

        var lines = (await LinesAsync(audit, 2)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var ok = lines[0];
        Assert.Equal(Gateway.User, ok.GetProperty("user").GetString());
        Assert.Equal("127.0.0.1", ok.GetProperty("clientAddress").GetString());
        Assert.Equal("upload", ok.GetProperty("direction").GetString());
        Assert.Equal("/ok.bin", ok.GetProperty("path").GetString());
        Assert.Equal("default", ok.GetProperty("storageTarget").GetString());
        Assert.Equal(100, ok.GetProperty("bytes").GetInt64());
        Assert.Equal("completed", ok.GetProperty("result").GetString());
        Assert.Equal(226, ok.GetProperty("replyCode").GetInt32());
        Assert.False(string.IsNullOrEmpty(ok.GetProperty("sessionId").GetString()));
        Assert.Equal("Aborted", lines[1].GetProperty("result").GetString());
        Assert.Equal(426, lines[1].GetProperty("replyCode").GetInt32());
    }
}
