namespace FtpGateway.Ftp.Protocol;

/// <summary>The reply codes this server uses, with where they are defined.</summary>
internal static class ReplyCodes
{
    public const int RestartMarker = 110;            // RFC 959 §4.2.2
    public const int DataConnectionAlreadyOpen = 125; // RFC 959 §4.2.2
    public const int FileStatusOkay = 150;           // RFC 959 §4.2.2: about to open data connection
    public const int Okay = 200;                     // RFC 959 §4.2.2
    public const int Superfluous = 202;              // RFC 959 §4.2.2: command not implemented, superfluous here
    public const int SystemStatus = 211;             // RFC 959 §4.2.2 (also FEAT, RFC 2389 §3.2)
    public const int DirectoryStatus = 212;          // RFC 959 §4.2.2
    public const int FileStatus = 213;               // RFC 959 §4.2.2 (also SIZE/MDTM, RFC 3659)
    public const int Help = 214;                     // RFC 959 §4.2.2
    public const int SystemType = 215;               // RFC 959 §4.2.2
    public const int ServiceReady = 220;             // RFC 959 §4.2.2
    public const int ClosingControl = 221;           // RFC 959 §4.2.2
    public const int DataOpenNoTransfer = 225;       // RFC 959 §4.2.2
    public const int ClosingData = 226;              // RFC 959 §4.2.2: transfer complete / abort done
    public const int EnteringPassive = 227;          // RFC 959 §4.2.2
    public const int EnteringExtendedPassive = 229;  // RFC 2428 §3
    public const int LoggedIn = 230;                 // RFC 959 §4.2.2
    public const int SecurityExchangeOkay = 234;     // RFC 2228 §4 (AUTH TLS, RFC 4217 §4.1)
    public const int FileActionOkay = 250;           // RFC 959 §4.2.2
    public const int PathCreated = 257;              // RFC 959 §4.2.2
    public const int NeedPassword = 331;             // RFC 959 §4.2.2
    public const int PendingFurtherInformation = 350; // RFC 959 §4.2.2 (REST, RNFR)
    public const int ServiceNotAvailable = 421;      // RFC 959 §4.2.2: closing control connection
    public const int CantOpenDataConnection = 425;   // RFC 959 §4.2.2
    public const int TransferAborted = 426;          // RFC 959 §4.2.2
    public const int FileUnavailableBusy = 450;      // RFC 959 §4.2.2
    public const int LocalError = 451;               // RFC 959 §4.2.2
    public const int InsufficientStorageSpace = 452; // RFC 959 §4.2.2
    public const int SyntaxError = 500;              // RFC 959 §4.2.2: command unrecognized / line too long
    public const int SyntaxErrorInParameters = 501;  // RFC 959 §4.2.2
    public const int NotImplemented = 502;           // RFC 959 §4.2.2
    public const int BadSequence = 503;              // RFC 959 §4.2.2
    public const int NotImplementedForParameter = 504; // RFC 959 §4.2.2
    public const int NetworkProtocolNotSupported = 522; // RFC 2428 §2
    public const int NotLoggedIn = 530;              // RFC 959 §4.2.2
    public const int ProtectionLevelDenied = 534;    // RFC 2228 §4, RFC 4217 §9
    public const int ProtectionLevelNotSupported = 536; // RFC 2228 §4
    public const int FileUnavailable = 550;          // RFC 959 §4.2.2: not found, no access
    public const int ExceededStorage = 552;          // RFC 959 §4.2.2
    public const int FileNameNotAllowed = 553;       // RFC 959 §4.2.2
    public const int InvalidRestartOffset = 554;     // RFC 3659 §5.3 (REST offset beyond the file)
}
