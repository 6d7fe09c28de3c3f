using System.Net.Security;
using System.Security.Authentication;

namespace FtpGateway.Ftp.Security;

/// <summary>
/// What one FTPS listener accepts: the TLS versions from <c>MinVersion</c> up to 1.3, and the cipher suites named
/// (IANA names, e.g. <c>TLS_RSA_WITH_AES_128_CBC_SHA</c>; none: the TLS library's defaults). Cameras and MFPs that
/// speak only TLS 1.0/1.1 or RSA key exchange need it on purpose; the default stays TLS 1.2 and 1.3.
/// </summary>
internal sealed record TlsPolicy(SslProtocols Protocols, CipherSuitesPolicy? Suites)
{
    public static TlsPolicy Default { get; } = new(SslProtocols.Tls12 | SslProtocols.Tls13, null);

#pragma warning disable SYSLIB0039, CA5397 // TLS 1.0 and 1.1: only where an operator asks for them (devices that speak nothing newer).
    private static readonly (string Name, SslProtocols Protocols)[] Versions =
    [
        ("Tls10", SslProtocols.Tls | SslProtocols.Tls11 | SslProtocols.Tls12 | SslProtocols.Tls13),
        ("Tls11", SslProtocols.Tls11 | SslProtocols.Tls12 | SslProtocols.Tls13),
        ("Tls12", SslProtocols.Tls12 | SslProtocols.Tls13),
        ("Tls13", SslProtocols.Tls13),
    ];

    /// <summary>
    /// Whether <paramref name="minVersion"/> allows TLS 1.0 or 1.1, so that OpenSSL must allow them too (its security
    /// level 0, see the executable's TlsLibrary). Read from the versions alone: nothing here loads OpenSSL.
    /// </summary>
    public static bool AllowsLegacy(string? minVersion) =>
        Versions.Any(v => v.Name.Equals(minVersion?.Trim(), StringComparison.OrdinalIgnoreCase) && (v.Protocols & (SslProtocols.Tls | SslProtocols.Tls11)) != 0);
#pragma warning restore SYSLIB0039, CA5397

    /// <summary>The policy <paramref name="minVersion"/> and <paramref name="suites"/> give, or the errors naming <paramref name="key"/>.</summary>
    public static TlsPolicy Parse(string? minVersion, IReadOnlyList<string> suites, string key, List<string> errors)
    {
        var protocols = Default.Protocols;
        if (!string.IsNullOrWhiteSpace(minVersion))
        {
            var found = Versions.FirstOrDefault(v => v.Name.Equals(minVersion.Trim(), StringComparison.OrdinalIgnoreCase));
            if (found.Name is null)
            {
                errors.Add($"{key}:MinVersion '{minVersion}' must be Tls10, Tls11, Tls12 or Tls13");
            }
            else
            {
                protocols = found.Protocols;
            }
        }

        var parsed = new List<TlsCipherSuite>();
        for (var i = 0; i < suites.Count; i++)
        {
            if (Enum.TryParse<TlsCipherSuite>(suites[i]?.Trim(), ignoreCase: false, out var suite) && suites[i].StartsWith("TLS_", StringComparison.Ordinal))
            {
                parsed.Add(suite);
            }
            else
            {
                errors.Add($"{key}:CipherSuites:{i} '{suites[i]}' is not a cipher suite's IANA name (e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_128_CBC_SHA)");
            }
        }

        // OpenSSL takes TLS 1.3 suites and older ones as two lists, and refuses a version left without any: a list
        // of TLS 1.2-and-older suites turns TLS 1.3 off, a list of TLS 1.3 suites the older versions.
        if (parsed.Count > 0)
        {
            var tls13 = parsed.Any(IsTls13);
            var older = parsed.Any(p => !IsTls13(p));
            if (!tls13)
            {
#pragma warning disable CA5397 // a mask that removes TLS 1.3, not a choice of an old version
                protocols &= ~SslProtocols.Tls13;
#pragma warning restore CA5397
            }

            if (!older)
            {
                protocols &= SslProtocols.Tls13;
            }

            if (protocols == SslProtocols.None)
            {
                errors.Add($"{key}:CipherSuites has no suite for the versions {key}:MinVersion allows");
            }
        }

        // Windows has no per-connection suites (the gateway runs on Linux; there the list is passed to OpenSSL).
        return new TlsPolicy(protocols, parsed.Count > 0 && !OperatingSystem.IsWindows() ? new CipherSuitesPolicy(parsed) : null);
    }

    private static bool IsTls13(TlsCipherSuite suite) =>
        suite is TlsCipherSuite.TLS_AES_128_GCM_SHA256 or TlsCipherSuite.TLS_AES_256_GCM_SHA384 or TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256
            or TlsCipherSuite.TLS_AES_128_CCM_SHA256 or TlsCipherSuite.TLS_AES_128_CCM_8_SHA256;

    /// <summary>
    /// A data connection's versions, from the client's hello: TLS 1.2 when the client offers it and the policy allows
    /// it (no TLS 1.3 session tickets for upload-only clients, see <c>FtpServerContext.DataTlsOptions</c>); otherwise
    /// what the policy allows (a TLS 1.3-only client, a TLS 1.0 camera).
    /// </summary>
    public SslProtocols ForData(SslProtocols offered) =>
        (offered == SslProtocols.None || (offered & SslProtocols.Tls12) != 0) && (Protocols & SslProtocols.Tls12) != 0 ? SslProtocols.Tls12 : Protocols;
}
