using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FtpGateway.Ftp.Telemetry;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Security;

/// <summary>
/// The FTPS certificate, renewed without a restart: the certificate and key files (Ftp:Tls:CertificatePath,
/// Ftp:Tls:KeyPath) are read again every 2 s and compared by content — a cert-manager Secret swaps the volume's
/// <c>..data</c> link, the path stays the same. New connections get a new pair once it loads and matches; a
/// session keeps the certificate of its handshake for its data connections; a broken or mismatched pair keeps the
/// previous one and is logged once as an error. <c>ftpgateway.tls.certificate.expiry</c> tells the seconds left.
/// </summary>
internal sealed class ServerCertificate : IDisposable
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    private readonly FtpTlsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _poll;
    private readonly Lock _reloading = new();
    private volatile X509Certificate2 _current;
    private byte[] _version;
    private byte[]? _failedVersion;
    private byte[]? _suspect; // failed once: a swap may have been caught half-way; it must fail again to count

    /// <summary>Loads the pair (a start-up error names the key) and starts watching the files.</summary>
    public ServerCertificate(FtpTlsOptions options, TimeProvider time, ILogger logger, FtpTelemetry telemetry)
    {
        _options = options;
        _time = time;
        _logger = logger;
        var (certificate, key) = Read();
        _current = Load(certificate, key);
        _version = Version(certificate, key);
        _poll = time.CreateTimer(_ => Reload(), null, PollInterval, PollInterval);
        telemetry.ObserveCertificateExpiry(() => _current.NotAfter.ToUniversalTime() - _time.GetUtcNow().UtcDateTime, options.ImplicitPort is not null);
    }

    /// <summary>The certificate new connections get.</summary>
    public X509Certificate2 Current => _current;

    /// <summary>Reads the files again and takes a changed pair that loads (called by the poll; tests may call it).</summary>
    public void Reload()
    {
        lock (_reloading)
        {
            (string Certificate, string? Key) files;
            try
            {
                files = Read();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Fail([0], $"cannot read it: {ex.Message}"); // a swap in progress; the next poll sees the new files
                return;
            }

            var version = Version(files.Certificate, files.Key);
            if (version.AsSpan().SequenceEqual(_version))
            {
                return;
            }

            X509Certificate2 next;
            try
            {
                next = Load(files.Certificate, files.Key);
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                Fail(version, ex.Message);
                return;
            }

            if (!next.HasPrivateKey)
            {
                next.Dispose();
                Fail(version, "the certificate has no private key");
                return;
            }

            // The previous certificate is not disposed: sessions that began with it use it for their data connections.
            _current = next;
            _version = version;
            _failedVersion = null;
            _suspect = null;
            Log.CertificateRenewed(_logger, next.Subject, next.Thumbprint, next.NotAfter.ToUniversalTime());
        }
    }

    private void Fail(byte[] version, string reason)
    {
        if (_suspect is null || !version.AsSpan().SequenceEqual(_suspect))
        {
            _suspect = version; // the next poll reads the files again before anyone is told
            return;
        }

        if (_failedVersion is null || !version.AsSpan().SequenceEqual(_failedVersion))
        {
            Log.CertificateNotRenewed(_logger, _options.CertificatePath!, reason);
            _failedVersion = version;
        }
    }

    private (string Certificate, string? Key) Read() =>
        (File.ReadAllText(_options.CertificatePath!), string.IsNullOrWhiteSpace(_options.KeyPath) ? null : File.ReadAllText(_options.KeyPath));

    private static X509Certificate2 Load(string certificate, string? key) => X509Certificate2.CreateFromPem(certificate, key ?? certificate);

    private static byte[] Version(string certificate, string? key) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(certificate + "\n--key--\n" + key));

    public void Dispose() => _poll.Dispose();
}
