using System.Runtime.InteropServices;

namespace FtpGateway;

/// <summary>
/// The process-wide settings of the TLS library (OpenSSL on Linux) that .NET does not expose per connection, set
/// before anything loads it: an OpenSSL configuration of the gateway's own, unless the operator named one in
/// <c>OPENSSL_CONF</c>. It keeps the distribution's defaults (TLS 1.2 and newer, security level 2) and sends no
/// TLS 1.3 session tickets: a server sends them after the handshake, a client that only uploads never reads
/// them, and a client that closes with unread bytes resets the connection, which loses the end of its upload
/// (curl issue 6149). The gateway never resumes TLS sessions, so the tickets are of no use to anyone.
/// </summary>
internal static partial class TlsLibrary
{
    internal const string Variable = "OPENSSL_CONF";

    /// <summary>The configuration the gateway writes for itself.</summary>
    internal static string Configuration => string.Join('\n',
        "# Written by FtpGateway at start-up (set OPENSSL_CONF to use a configuration of your own).",
        "openssl_conf = ftpgateway",
        "[ftpgateway]",
        "ssl_conf = ftpgateway_ssl",
        "[ftpgateway_ssl]",
        "system_default = ftpgateway_tls",
        "[ftpgateway_tls]",
        "MinProtocol = TLSv1.2",
        "CipherString = DEFAULT:@SECLEVEL=2",
        "NumTickets = 0",
        string.Empty);

    /// <summary>
    /// Points OpenSSL at the gateway's configuration, unless <c>OPENSSL_CONF</c> is set already; returns the file
    /// in force (null: OpenSSL's own default). Must run before anything in the process uses cryptography.
    /// </summary>
    public static string? UseGatewayDefaults()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } own)
        {
            return own;
        }

        // Named by its content: every gateway on the machine with the same settings shares one file. (No
        // cryptographic hash here: it would load OpenSSL before it is configured.)
        var content = Configuration;
        var name = Fnv1a(content).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        var file = Path.Combine(Path.GetTempPath(), $"ftpgateway-openssl-{name}.cnf");
        try
        {
            if (!File.Exists(file))
            {
                var temporary = $"{file}.{Environment.ProcessId}";
                File.WriteAllText(temporary, content);
                File.Move(temporary, file, overwrite: true); // whole or not at all, whoever writes it at the same moment
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // no writable temporary directory: OpenSSL's defaults (data connections then prefer TLS 1.2)
        }

        // The native environment, which OpenSSL reads: .NET's Environment.SetEnvironmentVariable does not reach it.
        return SetEnv(Variable, file, 1) == 0 ? file : null;
    }

    private static ulong Fnv1a(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
