using System.Runtime.InteropServices;

namespace FtpGateway;

/// <summary>
/// The process-wide settings of the TLS library (OpenSSL on Linux) that .NET does not expose per connection, set
/// before anything loads it: the OpenSSL configuration shipped beside the program (<see cref="FileName"/>), unless
/// the operator named one in <c>OPENSSL_CONF</c>. It keeps OpenSSL's defaults and sends no TLS 1.3 session tickets:
/// a server sends them after the handshake, a client that only uploads never reads them, and a client that closes
/// with unread bytes resets the connection, which loses the end of its upload (curl issue 6149). The file is read
/// where the program is installed (read-only in the image), never written at run time.
/// </summary>
internal static partial class TlsLibrary
{
    internal const string Variable = "OPENSSL_CONF";

    /// <summary>The configuration's file name, beside the program.</summary>
    internal const string FileName = "openssl-ftpgateway.cnf";

    /// <summary>The configuration when a listener allows TLS 1.0/1.1: OpenSSL's security level 0 as well.</summary>
    internal const string LegacyFileName = "openssl-ftpgateway-legacy.cnf";

    /// <summary>
    /// Points OpenSSL at the gateway's configuration, unless <c>OPENSSL_CONF</c> is set already; returns the file
    /// in force (null: OpenSSL's own default). Must run before anything in the process uses cryptography.
    /// </summary>
    /// <param name="legacy">a listener allows TLS 1.0 or 1.1 (Ftp:Tls:MinVersion or Ftp:Tls:Implicit:MinVersion).</param>
    public static string? UseGatewayDefaults(bool legacy = false)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } own)
        {
            return own;
        }

        var file = Path.Combine(AppContext.BaseDirectory, legacy ? LegacyFileName : FileName);
        if (!File.Exists(file))
        {
            return null; // OpenSSL's defaults; data connections then prefer TLS 1.2 wherever the client offers it
        }

        // The native environment, which OpenSSL reads: .NET's Environment.SetEnvironmentVariable does not reach it.
        return SetEnv(Variable, file, 1) == 0 ? file : null;
    }

    /// <summary>Whether the configuration lets a listener accept TLS 1.0 or 1.1 (read before the TLS library loads).</summary>
    public static bool LegacyRequested(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        // The versions only: building a policy's cipher suites would load OpenSSL before its configuration is chosen.
        var tls = Microsoft.Extensions.Configuration.ConfigurationBinder.Get<FtpGateway.Ftp.FtpTlsOptions>(configuration.GetSection("Ftp:Tls")) ?? new();
        return FtpGateway.Ftp.Security.TlsPolicy.AllowsLegacy(tls.MinVersion) || FtpGateway.Ftp.Security.TlsPolicy.AllowsLegacy(tls.Implicit.MinVersion ?? tls.MinVersion);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
