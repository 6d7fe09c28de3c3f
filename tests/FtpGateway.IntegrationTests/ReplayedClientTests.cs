using System.Security.Cryptography;
using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// The command sequences of clients that do not run on this machine — FileZilla, WinSCP and Windows ftp.exe —
/// replayed over real TCP in their order, with their data-connection modes, from their session logs.
/// </summary>
public sealed class ReplayedClientTests : IAsyncLifetime
{
    private Gateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await Gateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private string Stored(string path) => _gateway.Root.File(path);

    private async Task<RawFtpClient> ConnectAndLogInAsync()
    {
        var c = await RawFtpClient.ConnectAsync(_gateway.Port);
        Assert.Equal(220, c.Greeting.Code);
        await c.ExpectAsync("USER " + Gateway.User, 331);
        await c.ExpectAsync("PASS " + Gateway.Password, 230);
        return c;
    }

    [Fact]
    public async Task FileZilla_BrowseUploadStampAndResumeDownload()
    {
        var c = await RawFtpClient.ConnectAsync(_gateway.Port);
        await using var _ = c;

        // "Use explicit FTP over TLS if available": TLS is not configured here, so FileZilla goes on in clear.
        var auth = await c.SendAsync("AUTH TLS");
        Assert.InRange(auth.Code, 500, 599);
        await c.ExpectAsync("USER " + Gateway.User, 331);
        await c.ExpectAsync("PASS " + Gateway.Password, 230);
        await c.ExpectAsync("SYST", 215);
        var feat = await c.ExpectAsync("FEAT", 211);
        Assert.Contains(feat.Lines, l => l.Trim() == "UTF8");
        Assert.Contains(feat.Lines, l => l.Trim() == "MFMT");
        await c.ExpectAsync("OPTS UTF8 ON", 200);
        Assert.Equal("257 \"/\" is the current directory.", (await c.ExpectAsync("PWD", 257)).Text);
        await c.ExpectAsync("TYPE I", 200);
        var (empty, listed) = await c.DownloadAsync("MLSD", DataMode.Pasv);
        Assert.Equal(226, listed.Code);
        Assert.Empty(empty);

        // New folder, upload into it, then keep the local file's time (MFMT).
        await c.ExpectAsync("MKD /Fotos 2026", 257);
        await c.ExpectAsync("CWD /Fotos 2026", 250);
        await c.ExpectAsync("TYPE I", 200);
        var photo = RandomNumberGenerator.GetBytes(300_001);
        Assert.Equal(226, (await c.UploadAsync("STOR Übersicht.jpg", photo, DataMode.Pasv)).Code);
        Assert.Equal("213 Modify=20260102030405; /Fotos 2026/Übersicht.jpg", (await c.ExpectAsync("MFMT 20260102030405 Übersicht.jpg", 213)).Text);
        var (facts, _) = await c.DownloadAsync("MLSD", DataMode.Pasv);
        Assert.Contains("modify=20260102030405;", Encoding.UTF8.GetString(facts), StringComparison.Ordinal);
        Assert.Contains("size=300001;", Encoding.UTF8.GetString(facts), StringComparison.Ordinal);
        Assert.Equal(photo, File.ReadAllBytes(Stored("Fotos 2026/Übersicht.jpg")));

        // Resume an interrupted download: SIZE, MDTM, then REST and RETR.
        Assert.Equal("213 300001", (await c.ExpectAsync("SIZE Übersicht.jpg", 213)).Text);
        Assert.Equal("213 20260102030405", (await c.ExpectAsync("MDTM Übersicht.jpg", 213)).Text);
        await c.ExpectAsync("REST 100000", 350);
        var (tail, done) = await c.DownloadAsync("RETR Übersicht.jpg", DataMode.Pasv);
        Assert.Equal(226, done.Code);
        Assert.Equal(photo[100_000..], tail);

        // Rename and delete from the context menu, then remove the folder.
        await c.ExpectAsync("RNFR Übersicht.jpg", 350);
        await c.ExpectAsync("RNTO Übersicht-alt.jpg", 250);
        await c.ExpectAsync("DELE Übersicht-alt.jpg", 250);
        await c.ExpectAsync("CWD /", 250);
        await c.ExpectAsync("RMD Fotos 2026", 250);
        await c.ExpectAsync("QUIT", 221);
        Assert.False(Directory.Exists(Stored("Fotos 2026")));
    }

    [Fact]
    public async Task WinScp_UploadsToFilepartResumesRenamesOverAnOldFileAndStamps()
    {
        await using var c = await ConnectAndLogInAsync();
        await c.ExpectAsync("SYST", 215);
        await c.ExpectAsync("FEAT", 211);
        await c.ExpectAsync("OPTS UTF8 ON", 200);
        await c.ExpectAsync("PWD", 257);
        await c.ExpectAsync("CWD /", 250);
        await c.ExpectAsync("TYPE A", 200);
        await c.DownloadAsync("MLSD", DataMode.Pasv);
        File.WriteAllText(Stored("export.csv"), "yesterday's export\n");

        // "Transfer to temporary filename": the upload breaks after the first half (the data connection closes
        // with the 226 the server cannot tell apart), WinSCP resumes it with SIZE and APPE on the .filepart.
        var export = RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 7);
        await c.ExpectAsync("TYPE I", 200);
        Assert.Equal(226, (await c.UploadAsync("STOR export.csv.filepart", export[..1_000_000], DataMode.Pasv)).Code);
        Assert.Equal("213 1000000", (await c.ExpectAsync("SIZE export.csv.filepart", 213)).Text);
        Assert.Equal(226, (await c.UploadAsync("APPE export.csv.filepart", export[1_000_000..], DataMode.Pasv)).Code);

        // The finished upload replaces yesterday's file in one rename, and takes the source's time.
        await c.ExpectAsync("RNFR export.csv.filepart", 350);
        await c.ExpectAsync("RNTO export.csv", 250);
        await c.ExpectAsync("MFMT 20251224183000 export.csv", 213);
        var mlst = await c.ExpectAsync("MLST export.csv", 250);
        Assert.Contains("size=2097159;", mlst.Text, StringComparison.Ordinal);
        Assert.Contains("modify=20251224183000;", mlst.Text, StringComparison.Ordinal);
        Assert.Equal(export, File.ReadAllBytes(Stored("export.csv")));
        Assert.False(File.Exists(Stored("export.csv.filepart")));

        // Keep-alive while idle, as WinSCP sends it.
        await c.ExpectAsync("NOOP", 200);
    }

    [Fact]
    public async Task WindowsFtpExe_ActiveAsciiScriptWithMgetPattern()
    {
        await using var c = await RawFtpClient.ConnectAsync(_gateway.Port);

        // ftp.exe sends OPTS UTF8 ON before logging in and ignores the answer.
        var early = await c.SendAsync("OPTS UTF8 ON");
        Assert.True(early.Code is 200 or 530, early.Text);
        await c.ExpectAsync("USER " + Gateway.User, 331);
        await c.ExpectAsync("PASS " + Gateway.Password, 230);
        Assert.Equal("257 \"/\" is the current directory.", (await c.ExpectAsync("XPWD", 257)).Text);
        await c.ExpectAsync("XMKD reports", 257);
        await c.ExpectAsync("CWD reports", 250);

        // "ascii" then "put": CRLF lines go up over an active (PORT) connection and are stored with LF.
        await c.ExpectAsync("TYPE A", 200);
        Assert.Equal(226, (await c.UploadAsync("STOR daily.csv", "id;value\r\n1;20\r\n"u8.ToArray(), DataMode.Port)).Code);
        Assert.Equal(226, (await c.UploadAsync("STOR weekly.csv", "id;total\r\n1;140\r\n"u8.ToArray(), DataMode.Port)).Code);
        Assert.Equal(226, (await c.UploadAsync("STOR notes.txt", "not a csv\r\n"u8.ToArray(), DataMode.Port)).Code);
        Assert.Equal("id;value\n1;20\n", File.ReadAllText(Stored("reports/daily.csv")));

        // "mget *.csv": NLST with the pattern, then one RETR per name, each in ASCII with CRLF on the wire.
        var names = (await c.ListAsync("NLST *.csv", DataMode.Port)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["daily.csv", "weekly.csv"], names.Order(StringComparer.Ordinal));
        foreach (var name in names)
        {
            await c.ExpectAsync("TYPE A", 200);
            var (content, done) = await c.DownloadAsync("RETR " + name, DataMode.Port);
            Assert.Equal(226, done.Code);
            Assert.EndsWith("\r\n", Encoding.ASCII.GetString(content), StringComparison.Ordinal);
            Assert.DoesNotContain("\n", Encoding.ASCII.GetString(content).Replace("\r\n", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        }

        // "mdelete *.csv" is NLST then DELE each; "cd .." is XCUP (200, as RFC 959 gives for CDUP); "rmdir" is XRMD.
        await c.ExpectAsync("DELE daily.csv", 250);
        await c.ExpectAsync("DELE weekly.csv", 250);
        await c.ExpectAsync("DELE notes.txt", 250);
        await c.ExpectAsync("XCUP", 200);
        await c.ExpectAsync("XRMD reports", 250);
        await c.ExpectAsync("QUIT", 221);
        Assert.False(Directory.Exists(Stored("reports")));
    }
}
