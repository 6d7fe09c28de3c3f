using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FtpGateway.TestSupport;

namespace FtpGateway.Ftp.Tests.Sessions;

/// <summary>Explicit FTPS (RFC 4217) on the control connection, over real TCP with a real TLS client.</summary>
public sealed class ControlChannelTlsTests : IAsyncLifetime
{
    private readonly TempDirectory _certificates = new();
    private readonly CollectingLoggerFactory _logs = new();
    private TestServer _server = null!;
    private string _thumbprint = string.Empty;

    public async Task InitializeAsync()
    {
        var (certificate, key) = TestCertificates.CreateTlsFiles(_certificates.Path);
        using var pem = X509Certificate2.CreateFromPemFile(certificate, key);
        _thumbprint = pem.Thumbprint;
        _server = await TestServer.StartAsync(o => (o.Tls.CertificatePath, o.Tls.KeyPath) = (certificate, key), loggers: _logs);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _certificates.Dispose();
    }

    [Fact]
    public async Task CommandsSentInClearTextBehindAuthTls_AreNeverRunInsideTheTlsSession()
    {
        // CVE-2011-0411 class: a man in the middle appends commands to the client's AUTH TLS in one packet;
        // they were read before the handshake and then run as if they had come encrypted.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_server.EndPoint);
        var clear = tcp.GetStream();
        await ReadLineAsync(clear); // 220
        await clear.WriteAsync(Encoding.ASCII.GetBytes($"AUTH TLS\r\nUSER {TestServer.UserName}\r\nPASS {TestServer.Password}\r\n"));
        Assert.StartsWith("234 ", await ReadLineAsync(clear), StringComparison.Ordinal);

        await using var tls = new SslStream(clear, leaveInnerStreamOpen: false, (_, certificate, _, _) => certificate?.GetCertHashString() == _thumbprint);
        await tls.AuthenticateAsClientAsync("127.0.0.1");
        await tls.WriteAsync("PWD\r\n"u8.ToArray());
        Assert.StartsWith("530 ", await ReadLineAsync(tls), StringComparison.Ordinal); // not 331, not 230: nothing ran

        await tls.WriteAsync(Encoding.ASCII.GetBytes($"USER {TestServer.UserName}\r\n"));
        Assert.StartsWith("331 ", await ReadLineAsync(tls), StringComparison.Ordinal);
        await tls.WriteAsync(Encoding.ASCII.GetBytes($"PASS {TestServer.Password}\r\n"));
        Assert.StartsWith("230 ", await ReadLineAsync(tls), StringComparison.Ordinal);
    }

    [Fact]
    public async Task APlainExplicitTlsLogin_LogsNoWarning()
    {
        // Regression: every AUTH TLS logged "Discarded 1 bytes sent in clear text" (its own LF), burying a real injection.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_server.EndPoint);
        var clear = tcp.GetStream();
        await ReadLineAsync(clear);
        await clear.WriteAsync("AUTH TLS\r\n"u8.ToArray());
        Assert.StartsWith("234 ", await ReadLineAsync(clear), StringComparison.Ordinal);
        await using var tls = new SslStream(clear, leaveInnerStreamOpen: false, (_, certificate, _, _) => certificate?.GetCertHashString() == _thumbprint);
        await tls.AuthenticateAsClientAsync("127.0.0.1");
        await tls.WriteAsync(Encoding.ASCII.GetBytes($"USER {TestServer.UserName}\r\nPASS {TestServer.Password}\r\n"));
        Assert.StartsWith("331 ", await ReadLineAsync(tls), StringComparison.Ordinal);
        Assert.StartsWith("230 ", await ReadLineAsync(tls), StringComparison.Ordinal);
        Assert.DoesNotContain(_logs.Lines, l => l.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    /// <summary>One reply line, read a byte at a time so nothing beyond it is consumed.</summary>
    private static async Task<string> ReadLineAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var line = new StringBuilder();
        var one = new byte[1];
        while (!line.ToString().EndsWith("\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, timeout.Token) == 0)
            {
                throw new EndOfStreamException($"closed after '{line}'");
            }

            line.Append((char)one[0]);
        }

        return line.ToString().TrimEnd();
    }
}
