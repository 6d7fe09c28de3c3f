using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Transfers;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Sessions;

/// <summary>Why a session ended (logs, the session span, the sessions metric).</summary>
internal enum SessionEndReason
{
    ClientQuit,
    ClientClosed,
    IdleTimeout,
    LoginTimeout,
    TooManyLoginFailures,
    Banned,
    UserSessionLimit,
    UserRemoved,
    ServerShutdown,
    ProtocolError,
    EndedByOperator,
}

/// <summary>Who the client is: the USER name waiting for PASS, the logged-in user, failed attempts.</summary>
internal sealed class LoginState
{
    /// <summary>The name sent with USER, until PASS.</summary>
    public string? PendingUser { get; set; }

    /// <summary>The logged-in user; null before login.</summary>
    public FtpUser? User { get; set; }

    public int Failures { get; set; }

    /// <summary>When the current login began (connect, USER, REIN, a new TLS context): Ftp:LoginTimeout counts from it.</summary>
    public long StartedAt { get; set; }

    /// <summary>Forgets the login (USER, REIN, a new TLS context); failed attempts still count.</summary>
    public void Reset()
    {
        PendingUser = null;
        User = null;
    }
}

/// <summary>Where the client is: its working directory inside its root.</summary>
internal sealed class NavigationState
{
    public UserPath WorkingDirectory { get; set; } = UserPath.Root;

    public void Reset() => WorkingDirectory = UserPath.Root;
}

/// <summary>
/// What the next transfer will use (RFC 959 §4.1.2: type, data connection, REST offset), the listing and hash
/// options, and the pending RNFR: everything one command leaves for a later one.
/// </summary>
internal sealed class TransferParameters : IDisposable
{
    public const MlstFacts DefaultFacts = MlstFacts.Type | MlstFacts.Size | MlstFacts.Modify | MlstFacts.Perm | MlstFacts.Unique;

    /// <summary>TYPE A. RFC 959 makes ASCII the default; devices expect byte-exact files, so it is off until asked for.</summary>
    public bool Ascii { get; set; }

    /// <summary>The offset from REST, for the next transfer command only.</summary>
    public long RestOffset { get; set; }

    /// <summary>The source of a rename, from RNFR; RNTO must follow at once (RFC 959 §4.1.3).</summary>
    public UserPath? RenameFrom { get; set; }

    /// <summary>The data connection negotiated by PASV/EPSV/PORT/EPRT, not yet used.</summary>
    public DataChannel? PendingData { get; private set; }

    /// <summary>EPSV ALL (RFC 2428 §4): only EPSV from now on.</summary>
    public bool EpsvAll { get; set; }

    /// <summary>The MLST/MLSD facts chosen with OPTS MLST (RFC 3659 §7.9).</summary>
    public MlstFacts Facts { get; set; } = DefaultFacts;

    /// <summary>The algorithm HASH uses, chosen with OPTS HASH.</summary>
    public string HashAlgorithm { get; set; } = Hashing.Sha256;

    public string ModeName => Ascii ? "ASCII" : "BINARY";

    /// <summary>The REST offset for this transfer command; any transfer command consumes it.</summary>
    public long TakeRestOffset()
    {
        var offset = RestOffset;
        RestOffset = 0;
        return offset;
    }

    /// <summary>Replaces the negotiated data connection (a new PASV closes the previous listener).</summary>
    public void SetPendingData(DataChannel? channel)
    {
        PendingData?.Dispose();
        PendingData = channel;
    }

    /// <summary>The negotiated data connection, handed over to a transfer.</summary>
    public DataChannel TakePendingData()
    {
        var channel = PendingData ?? throw new InvalidOperationException("No data connection was negotiated");
        PendingData = null;
        return channel;
    }

    /// <summary>REIN: back to the defaults.</summary>
    public void Reset()
    {
        Ascii = false;
        RestOffset = 0;
        RenameFrom = null;
        EpsvAll = false;
        Facts = DefaultFacts;
        HashAlgorithm = Hashing.Sha256;
        SetPendingData(null);
    }

    public void Dispose() => SetPendingData(null);
}

/// <summary>RFC 4217 state: the control connection's protection and the data protection level.</summary>
internal sealed class TlsState
{
    /// <summary>The control connection runs TLS.</summary>
    public bool Active { get; set; }

    /// <summary>The certificate the control connection's handshake used; its data connections use it too.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; set; }

    /// <summary>PBSZ was sent (required before PROT, RFC 4217 §9).</summary>
    public bool BufferSizeSet { get; set; }

    /// <summary>PROT P: data connections run TLS.</summary>
    public bool ProtectData { get; set; }

    /// <summary>The TLS policy of the port the session came in on (the implicit port may allow old devices).</summary>
    public Security.TlsPolicy Policy { get; set; } = Security.TlsPolicy.Default;
}
