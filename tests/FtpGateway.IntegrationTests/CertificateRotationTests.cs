using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FtpGateway.Ftp;
using FtpGateway.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// FTPS certificates renewed without a restart, as cert-manager renews a Kubernetes Secret: the mounted directory's
/// <c>..data</c> link is swapped to a new version while a session uploads. New connections get the new certificate;
/// the running session finishes (and opens its next data connection) on its own; a broken pair keeps the old one.
/// </summary>
[Collection("Alone")]
public sealed class CertificateRotationTests
{
    [Fact]
    public async Task ASecretSwappedByItsLink_ReachesNewConnections_TheRunningSessionKeepsItsCertificate_ABrokenPairIsRefused()
    {
        using var secret = new TempDirectory();
        var v1 = WriteVersion(secret.Path, "..2026_12_06_v1", days: 30);
        await SwapToAsync(secret.Path, "..2026_12_06_v1");
        File.CreateSymbolicLink(Path.Combine(secret.Path, "tls.crt"), "..data/tls.crt");
        File.CreateSymbolicLink(Path.Combine(secret.Path, "tls.key"), "..data/tls.key");
        var logs = new CollectingLoggerFactory();
        await using var gateway = await Gateway.StartAsync(
            new Dictionary<string, string?> { ["Ftp:Tls:CertificatePath"] = Path.Combine(secret.Path, "tls.crt"), ["Ftp:Tls:KeyPath"] = Path.Combine(secret.Path, "tls.key") },
            b => b.Services.AddSingleton<ILoggerFactory>(logs));

        // A session uploads over TLS with the first certificate.
        await using var running = await TlsSession.LoginAsync(gateway.Port);
        Assert.Equal(v1, running.Thumbprint);
        var (data, dataThumbprint) = await running.StartStorAsync("recording.mp4");
        Assert.Equal(v1, dataThumbprint);
        await data.WriteAsync(new byte[200_000]);

        // The Secret is renewed: its link now points at a new version.
        var v2 = WriteVersion(secret.Path, "..2026_12_06_v2", days: 10);
        await SwapToAsync(secret.Path, "..2026_12_06_v2");
        await Poll.UntilAsync(async () =>
        {
            await using var fresh = await TlsSession.ConnectAsync(gateway.Port);
            return fresh.Thumbprint == v2;
        }, "a new connection with the renewed certificate");

        // The running upload finishes whole; its next data connection still shows the session's certificate.
        await data.WriteAsync(new byte[100_000]);
        await data.ShutdownAsync();
        data.Dispose();
        Assert.Equal(226, (await running.ReadReplyAsync()).Code);
        Assert.Equal(300_000, new FileInfo(Path.Combine(gateway.Root.Path, "recording.mp4")).Length);
        var (next, nextThumbprint) = await running.StartStorAsync("next.mp4");
        Assert.Equal(v1, nextThumbprint);
        await next.ShutdownAsync();
        next.Dispose();
        Assert.Equal(226, (await running.ReadReplyAsync()).Code);

        // The gauge tells the new certificate's time left (10 days, not 30).
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri(gateway.ManagementUrl, "/metrics"));
        var line = metrics.Split('\n').Single(l => l.StartsWith("ftpgateway_tls_certificate_expiry_seconds{", StringComparison.Ordinal) && l.Contains("listener=\"explicit\"", StringComparison.Ordinal));
        Assert.InRange(double.Parse(line.Split(' ')[^1].Trim(), System.Globalization.CultureInfo.InvariantCulture), 9.9 * 86400, 10.01 * 86400);

        // A broken renewal (the new certificate with another key): the renewed one stays, one error is logged.
        var broken = Path.Combine(secret.Path, "..2026_12_06_v3");
        Directory.CreateDirectory(broken);
        WriteVersion(secret.Path, "..scratch", days: 5);
        File.Copy(Path.Combine(secret.Path, "..scratch", "tls.crt"), Path.Combine(broken, "tls.crt"));
        File.Copy(Path.Combine(secret.Path, "..2026_12_06_v1", "tls.key"), Path.Combine(broken, "tls.key"));
        await SwapToAsync(secret.Path, "..2026_12_06_v3");
        var certificates = gateway.Services.GetRequiredService<FtpServer>().Context.Certificates!;
        certificates.Reload();
        certificates.Reload();
        await Poll.UntilAsync(() => logs.Lines.Any(l => l.EventId == 116), "the error about the broken pair");
        certificates.Reload();
        Assert.Single(logs.Lines, l => l.EventId == 116 && l.Level == LogLevel.Error);
        await using (var afterBroken = await TlsSession.ConnectAsync(gateway.Port))
        {
            Assert.Equal(v2, afterBroken.Thumbprint);
        }
    }

    /// <summary>A certificate and key valid for <paramref name="days"/> in a version directory; returns the thumbprint.</summary>
    private static string WriteVersion(string secret, string version, int days)
    {
        var dir = Directory.CreateDirectory(Path.Combine(secret, version)).FullName;
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(days));
        File.WriteAllText(Path.Combine(dir, "tls.crt"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "tls.key"), rsa.ExportPkcs8PrivateKeyPem());
        return cert.Thumbprint;
    }

    /// <summary>What the kubelet does: a new link to the version, renamed over ..data in one step (rename(2), as mv -T does).</summary>
    private static async Task SwapToAsync(string secret, string version)
    {
        var temporary = Path.Combine(secret, "..data_tmp");
        File.CreateSymbolicLink(temporary, version);
        var mv = await ExternalProcess.RunAsync("mv", ["-T", temporary, Path.Combine(secret, "..data")]);
        Assert.True(mv.ExitCode == 0, mv.ToString());
    }

    /// <summary>An explicit-FTPS client (AUTH TLS, PBSZ, PROT P) that tells which certificate each handshake showed.</summary>
    private sealed class TlsSession : IAsyncDisposable
    {
        private readonly TcpClient _tcp;
        private readonly SslStream _ssl;
        private readonly StreamReader _reader;

        private TlsSession(TcpClient tcp, SslStream ssl, string thumbprint)
        {
            _tcp = tcp;
            _ssl = ssl;
            _reader = new StreamReader(ssl, Encoding.ASCII);
            Thumbprint = thumbprint;
        }

        public string Thumbprint { get; }

        public static async Task<TlsSession> ConnectAsync(int port)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            var stream = tcp.GetStream();
            var plain = new StreamReader(stream, Encoding.ASCII);
            Assert.StartsWith("220", await plain.ReadLineAsync(), StringComparison.Ordinal);
            await stream.WriteAsync("AUTH TLS\r\n"u8.ToArray());
            Assert.StartsWith("234", await plain.ReadLineAsync(), StringComparison.Ordinal);
            var (ssl, thumbprint) = await HandshakeAsync(stream);
            return new TlsSession(tcp, ssl, thumbprint);
        }

        public static async Task<TlsSession> LoginAsync(int port)
        {
            var session = await ConnectAsync(port);
            await session.ExpectAsync($"USER {Gateway.User}", 331);
            await session.ExpectAsync($"PASS {Gateway.Password}", 230);
            await session.ExpectAsync("PBSZ 0", 200);
            await session.ExpectAsync("PROT P", 200);
            return session;
        }

        /// <summary>PASV, STOR: the protected data connection, and the certificate its handshake showed.</summary>
        public async Task<(SslStream Data, string Thumbprint)> StartStorAsync(string name)
        {
            var pasv = await ExpectAsync("PASV", 227);
            var numbers = pasv.Text[(pasv.Text.IndexOf('(', StringComparison.Ordinal) + 1)..pasv.Text.IndexOf(')', StringComparison.Ordinal)].Split(',').Select(int.Parse).ToArray();
            var data = new TcpClient();
            await data.ConnectAsync(IPAddress.Loopback, (numbers[4] * 256) + numbers[5]);
            await SendAsync($"STOR {name}");
            var (ssl, thumbprint) = await HandshakeAsync(data.GetStream());
            Assert.Equal(150, (await ReadReplyAsync()).Code);
            return (ssl, thumbprint);
        }

        private static async Task<(SslStream, string)> HandshakeAsync(Stream stream)
        {
            string? thumbprint = null;
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false, (_, certificate, _, _) =>
            {
                thumbprint = certificate is null ? null : new X509Certificate2(certificate).Thumbprint;
                return thumbprint is not null; // self-signed test certificates: the test compares which one it was
            });
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 });
            return (ssl, thumbprint!);
        }

        private async Task SendAsync(string command)
        {
            await _ssl.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
            await _ssl.FlushAsync();
        }

        public async Task<(int Code, string Text)> ReadReplyAsync()
        {
            var line = await _reader.ReadLineAsync() ?? throw new IOException("the server closed the connection");
            return (int.Parse(line[..3], System.Globalization.CultureInfo.InvariantCulture), line);
        }

        private async Task<(int Code, string Text)> ExpectAsync(string command, int code)
        {
            await SendAsync(command);
            var reply = await ReadReplyAsync();
            Assert.True(reply.Code == code, $"{command}: {reply.Text}");
            return reply;
        }

        public async ValueTask DisposeAsync()
        {
            await _ssl.DisposeAsync();
            _tcp.Dispose();
        }
    }
}
