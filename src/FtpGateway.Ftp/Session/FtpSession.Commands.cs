using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FtpGateway.Ftp.Data;
using FtpGateway.Ftp.Protocol;
using FtpGateway.Ftp.Users;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Session;

internal sealed partial class FtpSession
{
    private const MlstFacts DefaultFacts = MlstFacts.Type | MlstFacts.Size | MlstFacts.Modify | MlstFacts.Perm | MlstFacts.Unique;

    private string? _pendingUser;
    private FtpUser? _user;
    private int _loginFailures;
    private StoragePath _cwd = StoragePath.Root;
    private bool _ascii; // RFC 959 says TYPE A by default; devices expect byte-exact files, so we default to I.
    private long _restOffset;
    private StoragePath? _renameFrom;
    private bool _epsvAll;
    private bool _tlsActive;
    private bool _pbszSet;
    private bool _protectData;
    private MlstFacts _mlstFacts = DefaultFacts;
    private string _hashAlgorithm = Hashing.Sha256;

    public FtpUser? User => _user;

    // ---- Access control -------------------------------------------------------------------------

    internal async Task UserAsync(string argument, CancellationToken ct)
    {
        if (_options.Tls.Required && !_tlsActive)
        {
            await ReplyAsync(ReplyCodes.NotLoggedIn, "This server requires TLS: send AUTH TLS first.");
            return;
        }

        ResetLogin();
        _pendingUser = argument;
        await ReplyAsync(
            ReplyCodes.NeedPassword,
            UserDirectory.IsAnonymousName(argument) && _server.Users.AnonymousEnabled
                ? "Anonymous login ok, send your e-mail address as password."
                : "Password required.");
    }

    internal async Task PassAsync(string argument, CancellationToken ct)
    {
        if (_pendingUser is null)
        {
            await ReplyAsync(ReplyCodes.BadSequence, _user is null ? "Log in with USER first." : "Already logged in.");
            return;
        }

        var name = _pendingUser;
        _pendingUser = null;
        var user = _server.Users.Authenticate(name, argument);
        if (user is null)
        {
            _loginFailures++;
            _server.Telemetry.LoginFailures.Add(1);
            Log.LoginFailed(_logger, SanitizeForLog(name));
            await Task.Delay(_options.LoginFailureDelay, _server.Time, ct);
            if (_loginFailures >= _options.MaxLoginFailures)
            {
                _endReason = SessionEndReason.TooManyLoginFailures;
                await CloseWithReplyAsync(ReplyCodes.ServiceNotAvailable, "Too many failed logins; closing connection.");
                return;
            }

            await ReplyAsync(ReplyCodes.NotLoggedIn, "Login incorrect.");
            return;
        }

        await EnsureRootExistsAsync(user.Root, ct);
        _user = user;
        _cwd = StoragePath.Root;
        _sessionActivity?.SetTag("enduser.id", user.Name);
        Log.LoggedIn(_logger, user.Name);
        await ReplyAsync(ReplyCodes.LoggedIn, "User logged in, proceed.");
    }

    internal Task AcctAsync(string argument, CancellationToken ct) =>
        ReplyAsync(ReplyCodes.Superfluous, "ACCT not needed.");

    internal async Task ReinAsync(string argument, CancellationToken ct)
    {
        ResetLogin();
        _ascii = false;
        _restOffset = 0;
        _epsvAll = false;
        _mlstFacts = DefaultFacts;
        _hashAlgorithm = Hashing.Sha256;
        ClearPendingData();
        await ReplyAsync(ReplyCodes.ServiceReady, "Service ready for new user.");
    }

    internal async Task QuitAsync(string argument, CancellationToken ct)
    {
        await ReplyAsync(ReplyCodes.ClosingControl, "Goodbye.");
        _endReason = SessionEndReason.ClientQuit;
    }

    private void ResetLogin()
    {
        _user = null;
        _pendingUser = null;
        _cwd = StoragePath.Root;
        _renameFrom = null;
    }

    private async Task EnsureRootExistsAsync(StoragePath root, CancellationToken ct)
    {
        var path = StoragePath.Root;
        foreach (var segment in root.Segments)
        {
            path = path.Child(segment);
            if (await _storage.GetEntryAsync(path, ct) is null)
            {
                try
                {
                    await _storage.CreateDirectoryAsync(path, ct);
                }
                catch (StorageException ex) when (ex.Kind == StorageErrorKind.AlreadyExists)
                {
                    // Another session created it first.
                }
            }
        }
    }

    // ---- Navigation -----------------------------------------------------------------------------

    internal async Task CwdAsync(string argument, CancellationToken ct)
    {
        if (!TryResolve(argument, out var path))
        {
            await ReplyInvalidName();
            return;
        }

        var entry = await _storage.GetEntryAsync(ToStorage(path), ct);
        if (entry is null || !entry.IsDirectory)
        {
            await ReplyAsync(ReplyCodes.FileUnavailable, entry is null ? "No such directory." : "Not a directory.");
            return;
        }

        _cwd = path;
        await ReplyAsync(ReplyCodes.FileActionOkay, $"Directory changed to {Quote(path)}.");
    }

    internal async Task CdupAsync(string argument, CancellationToken ct)
    {
        _cwd = _cwd.Parent;
        await ReplyAsync(ReplyCodes.Okay, $"Directory changed to {Quote(_cwd)}."); // RFC 959 §5.4 lists 200 for CDUP
    }

    internal Task SmntAsync(string argument, CancellationToken ct) =>
        ReplyAsync(ReplyCodes.NotImplemented, "SMNT not implemented: there is one file system.");

    internal Task PwdAsync(string argument, CancellationToken ct) =>
        ReplyAsync(ReplyCodes.PathCreated, $"{Quote(_cwd)} is the current directory.");

    // ---- Transfer parameters --------------------------------------------------------------------

    internal async Task PortAsync(string argument, CancellationToken ct)
    {
        if (!await CheckActiveAllowed())
        {
            return;
        }

        var parts = argument.Split(',', StringSplitOptions.TrimEntries);
        var numbers = new byte[6];
        if (parts.Length != 6 || !parts.Select((p, i) => byte.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i])).All(ok => ok))
        {
            await ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "Syntax: PORT h1,h2,h3,h4,p1,p2");
            return;
        }

        var target = new IPEndPoint(new IPAddress(numbers.AsSpan(0, 4)), (numbers[4] << 8) | numbers[5]);
        await SetActiveTarget(target);
    }

    internal async Task EprtAsync(string argument, CancellationToken ct)
    {
        if (!await CheckActiveAllowed())
        {
            return;
        }

        // RFC 2428 §2: <d><net-prt><d><net-addr><d><tcp-port><d>, the delimiter being the first character.
        var d = argument[0];
        var parts = argument.Split(d);
        if (parts.Length != 5 || parts[0].Length != 0 || parts[4].Length != 0
            || !int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            await ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "Syntax: EPRT |proto|address|port|");
            return;
        }

        var family = parts[1] switch { "1" => AddressFamily.InterNetwork, "2" => AddressFamily.InterNetworkV6, _ => AddressFamily.Unknown };
        if (family == AddressFamily.Unknown)
        {
            await ReplyAsync(ReplyCodes.NetworkProtocolNotSupported, "Network protocol not supported, use (1,2)");
            return;
        }

        if (!IPAddress.TryParse(parts[2], out var address) || address.AddressFamily != family)
        {
            await ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "Invalid EPRT address.");
            return;
        }

        await SetActiveTarget(new IPEndPoint(address, port));
    }

    private async Task<bool> CheckActiveAllowed()
    {
        if (!_options.AllowActiveMode)
        {
            await ReplyAsync(ReplyCodes.NotImplemented, "Active mode is disabled on this server; use PASV or EPSV.");
            return false;
        }

        if (_epsvAll)
        {
            await ReplyAsync(ReplyCodes.BadSequence, "EPSV ALL is in effect; only EPSV is accepted.");
            return false;
        }

        return true;
    }

    /// <summary>RFC 2577 §3: connect only to the client's own address, and never to a privileged port.</summary>
    private async Task SetActiveTarget(IPEndPoint target)
    {
        var address = PassiveDataChannel.Normalize(target.Address);
        if (!address.Equals(ClientAddress) || target.Port < 1024)
        {
            await ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "Data connections go only to your own address and to ports 1024 and above.");
            return;
        }

        ClearPendingData();
        _pendingData = new ActiveDataChannel(new IPEndPoint(address, target.Port));
        await ReplyAsync(ReplyCodes.Okay, "PORT command successful.");
    }

    internal async Task PasvAsync(string argument, CancellationToken ct)
    {
        if (_epsvAll)
        {
            await ReplyAsync(ReplyCodes.BadSequence, "EPSV ALL is in effect; only EPSV is accepted.");
            return;
        }

        var local = PassiveDataChannel.Normalize(LocalEndPoint.Address);
        var advertised = _server.PublicAddress ?? local;
        if (advertised.AddressFamily != AddressFamily.InterNetwork)
        {
            await ReplyAsync(ReplyCodes.CantOpenDataConnection, "PASV cannot describe an IPv6 address; use EPSV.");
            return;
        }

        var channel = OpenPassive(local);
        if (channel is null)
        {
            await ReplyAsync(ReplyCodes.CantOpenDataConnection, "No passive port is free; try again later.");
            return;
        }

        var a = advertised.GetAddressBytes();
        await ReplyAsync(
            ReplyCodes.EnteringPassive,
            string.Create(CultureInfo.InvariantCulture, $"Entering Passive Mode ({a[0]},{a[1]},{a[2]},{a[3]},{channel.Port >> 8},{channel.Port & 0xFF})."));
    }

    internal async Task EpsvAsync(string argument, CancellationToken ct)
    {
        var local = PassiveDataChannel.Normalize(LocalEndPoint.Address);
        var family = local.AddressFamily == AddressFamily.InterNetwork ? "1" : "2";
        var arg = argument.Trim();
        if (arg.Equals("ALL", StringComparison.OrdinalIgnoreCase))
        {
            _epsvAll = true;
            await ReplyAsync(ReplyCodes.Okay, "EPSV ALL ok.");
            return;
        }

        if (arg.Length > 0 && arg != family)
        {
            await ReplyAsync(
                arg is "1" or "2" ? ReplyCodes.NetworkProtocolNotSupported : ReplyCodes.SyntaxErrorInParameters,
                $"Network protocol not supported, use ({family})");
            return;
        }

        var channel = OpenPassive(local);
        if (channel is null)
        {
            await ReplyAsync(ReplyCodes.CantOpenDataConnection, "No passive port is free; try again later.");
            return;
        }

        await ReplyAsync(ReplyCodes.EnteringExtendedPassive, $"Entering Extended Passive Mode (|||{channel.Port}|)");
    }

    private PassiveDataChannel? OpenPassive(IPAddress local)
    {
        ClearPendingData();
        var listener = _server.PassivePorts.Listen(local);
        if (listener is null)
        {
            return null;
        }

        var channel = new PassiveDataChannel(listener, _server.PassivePorts, _options.RequireSameDataPeer ? ClientAddress : null);
        _pendingData = channel;
        return channel;
    }

    internal async Task TypeAsync(string argument, CancellationToken ct)
    {
        var parts = argument.ToUpperInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        switch (parts)
        {
            case ["A"] or ["A", "N"]:
                _ascii = true;
                await ReplyAsync(ReplyCodes.Okay, "Type set to A.");
                break;
            case ["I"] or ["L", "8"]:
                _ascii = false;
                await ReplyAsync(ReplyCodes.Okay, "Type set to I.");
                break;
            case ["A", "T" or "C"] or ["E"] or ["E", _] or ["L", _]:
                await ReplyAsync(ReplyCodes.NotImplementedForParameter, "Only TYPE A (non-print), I and L 8 are supported.");
                break;
            default:
                await ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "Syntax: TYPE {A [N]|I|L 8}");
                break;
        }
    }

    internal Task StruAsync(string argument, CancellationToken ct) => argument.Trim().ToUpperInvariant() switch
    {
        "F" => ReplyAsync(ReplyCodes.Okay, "Structure set to F."),
        "R" or "P" => ReplyAsync(ReplyCodes.NotImplementedForParameter, "Only file structure (STRU F) is supported."),
        _ => ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "Syntax: STRU F"),
    };

    internal Task ModeAsync(string argument, CancellationToken ct) => argument.Trim().ToUpperInvariant() switch
    {
        "S" => ReplyAsync(ReplyCodes.Okay, "Mode set to S."),
        "B" or "C" => ReplyAsync(ReplyCodes.NotImplementedForParameter, "Only stream mode (MODE S) is supported."),
        _ => ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "Syntax: MODE S"),
    };

    internal async Task RestAsync(string argument, CancellationToken ct)
    {
        if (!long.TryParse(argument.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            await ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "REST takes a non-negative byte offset.");
            return;
        }

        // Accepted in every TYPE: dataloggers send TYPE A then REST 0.
        _restOffset = offset;
        await ReplyAsync(ReplyCodes.PendingFurtherInformation, $"Restarting at {offset}. Send STOR, APPE or RETR to start the transfer.");
    }

    internal Task AlloAsync(string argument, CancellationToken ct) =>
        ReplyAsync(ReplyCodes.Superfluous, "No storage allocation necessary.");

    // ---- File and directory actions -------------------------------------------------------------

    internal async Task RnfrAsync(string argument, CancellationToken ct)
    {
        if (!await Require(_user!.CanModify) || await TryResolveOrReply(argument) is not { } path)
        {
            return;
        }

        if (path.IsRoot || await _storage.GetEntryAsync(ToStorage(path), ct) is null)
        {
            await ReplyAsync(ReplyCodes.FileUnavailable, path.IsRoot ? "Permission denied." : "No such file or directory.");
            return;
        }

        _renameFrom = path;
        await ReplyAsync(ReplyCodes.PendingFurtherInformation, "Ready for destination name.");
    }

    internal async Task RntoAsync(string argument, CancellationToken ct)
    {
        var from = _renameFrom;
        _renameFrom = null;
        if (from is null)
        {
            await ReplyAsync(ReplyCodes.BadSequence, "Send RNFR first.");
            return;
        }

        if (await TryResolveOrReply(argument) is not { } to)
        {
            return;
        }

        await _storage.RenameAsync(ToStorage(from.Value), ToStorage(to), ct);
        await ReplyAsync(ReplyCodes.FileActionOkay, "Rename successful.");
    }

    internal async Task DeleAsync(string argument, CancellationToken ct)
    {
        if (await Require(_user!.CanModify) && await TryResolveOrReply(argument) is { } path)
        {
            await _storage.DeleteFileAsync(ToStorage(path), ct);
            await ReplyAsync(ReplyCodes.FileActionOkay, "File deleted.");
        }
    }

    internal async Task RmdAsync(string argument, CancellationToken ct)
    {
        if (!await Require(_user!.CanModify) || await TryResolveOrReply(argument) is not { } path)
        {
            return;
        }

        if (path.IsRoot)
        {
            await ReplyAsync(ReplyCodes.FileUnavailable, "Permission denied.");
            return;
        }

        await _storage.DeleteDirectoryAsync(ToStorage(path), ct);
        await ReplyAsync(ReplyCodes.FileActionOkay, "Directory removed.");
    }

    internal async Task MkdAsync(string argument, CancellationToken ct)
    {
        if (await Require(_user!.CanWrite) && await TryResolveOrReply(argument) is { } path)
        {
            if (path.IsRoot)
            {
                await ReplyAsync(ReplyCodes.FileUnavailable, "File or directory already exists.");
                return;
            }

            await _storage.CreateDirectoryAsync(ToStorage(path), ct);
            await ReplyAsync(ReplyCodes.PathCreated, $"{Quote(path)} created.");
        }
    }

    internal async Task SizeAsync(string argument, CancellationToken ct)
    {
        if (await Require(_user!.CanRead) && await StatFileOrReply(argument, ct) is { } entry)
        {
            // The stored size, in every TYPE (a TYPE A transfer of a file with LF endings is longer).
            await ReplyAsync(ReplyCodes.FileStatus, entry.Size.ToString(CultureInfo.InvariantCulture));
        }
    }

    internal async Task MdtmAsync(string argument, CancellationToken ct)
    {
        if (await Require(_user!.CanRead) && await StatFileOrReply(argument, ct) is { } entry)
        {
            await ReplyAsync(ReplyCodes.FileStatus, ListingFormatter.FormatTime(entry.LastModified ?? DateTimeOffset.UnixEpoch));
        }
    }

    internal async Task MfmtAsync(string argument, CancellationToken ct)
    {
        if (!await Require(_user!.CanWrite))
        {
            return;
        }

        if ((_storage.Capabilities & StorageCapabilities.SetModificationTime) == 0)
        {
            await ReplyAsync(ReplyCodes.NotImplemented, "This storage cannot set modification times.");
            return;
        }

        var space = argument.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || !ListingFormatter.TryParseTime(argument[..space], out var time))
        {
            await ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "Syntax: MFMT YYYYMMDDHHMMSS <path>");
            return;
        }

        if (await TryResolveOrReply(argument[(space + 1)..]) is not { } path)
        {
            return;
        }

        await _storage.SetModificationTimeAsync(ToStorage(path), time, ct);
        await ReplyAsync(ReplyCodes.FileStatus, $"Modify={ListingFormatter.FormatTime(time)}; {path}");
    }

    internal async Task MlstAsync(string argument, CancellationToken ct)
    {
        if (await ReadableEntryOrReply(argument, ct) is { } found)
        {
            await ReplyAsync(ReplyCodes.FileActionOkay, [$"Listing {found.Path}", Facts(found.Entry, found.Path.Value), "End"]);
        }
    }

    internal async Task HashAsync(string argument, CancellationToken ct)
    {
        if (await Require(_user!.CanRead) && await StatFileOrReply(argument, ct) is { } entry)
        {
            var hash = await _storage.GetHashAsync(entry.Path, _hashAlgorithm, ct);
            // draft-bryan-ftpext-hash-02 §3: <algorithm> <start>-<end> <hash> <path>
            await ReplyAsync(
                ReplyCodes.FileStatus,
                string.Create(CultureInfo.InvariantCulture, $"{_hashAlgorithm} 0-{entry.Size} {Convert.ToHexStringLower(hash)} {argument}"));
        }
    }

    internal async Task LegacyHashAsync(string algorithm, string argument, CancellationToken ct)
    {
        if (!_storage.HashAlgorithms.Contains(algorithm))
        {
            await ReplyAsync(ReplyCodes.NotImplemented, $"{algorithm} is not available for this storage.");
            return;
        }

        if (await Require(_user!.CanRead) && await StatFileOrReply(argument, ct) is { } entry)
        {
            var hash = await _storage.GetHashAsync(entry.Path, algorithm, ct);
            await ReplyAsync(ReplyCodes.FileActionOkay, Convert.ToHexString(hash));
        }
    }

    // ---- Informational --------------------------------------------------------------------------

    internal async Task SiteAsync(string argument, CancellationToken ct)
    {
        var parts = argument.Split(' ', 2, StringSplitOptions.TrimEntries);
        switch (parts[0].ToUpperInvariant())
        {
            case "HELP":
                await ReplyAsync(ReplyCodes.Help, ["SITE commands recognized:", "HELP", "End of SITE help."]);
                break;
            default:
                await ReplyAsync(ReplyCodes.NotImplementedForParameter, "SITE command not implemented.");
                break;
        }
    }

    internal Task SystAsync(string argument, CancellationToken ct) => ReplyAsync(ReplyCodes.SystemType, "UNIX Type: L8");

    internal Task NoopAsync(string argument, CancellationToken ct) => ReplyAsync(ReplyCodes.Okay, "NOOP ok.");

    internal Task ClntAsync(string argument, CancellationToken ct) => ReplyAsync(ReplyCodes.Okay, "Noted.");

    internal async Task StatAsync(string argument, CancellationToken ct)
    {
        var transfer = _transfer;
        if (argument.Length == 0 || transfer is not null)
        {
            var lines = new List<string>
            {
                "FtpGateway status:",
                $"Connected from {ClientAddress}",
                _user is null ? "Not logged in" : $"Logged in as {_user.Name}",
                $"TYPE: {(_ascii ? "ASCII" : "BINARY")}, STRUcture: File, MODE: Stream",
                _tlsActive ? $"Control connection: TLS, data protection: {(_protectData ? "private" : "clear")}" : "Control connection: clear",
            };
            if (transfer is not null)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"Transfer in progress: {transfer.Verb} {transfer.Path}, {transfer.Data?.Bytes ?? 0} bytes"));
            }

            lines.Add("End of status");
            await ReplyAsync(ReplyCodes.SystemStatus, lines);
            return;
        }

        if (_user is null)
        {
            await ReplyAsync(ReplyCodes.NotLoggedIn, "Please log in with USER and PASS.");
            return;
        }

        if (await ReadableEntryOrReply(StripListOptions(argument), ct) is not { } found)
        {
            return;
        }

        var (path, entry) = found;

        // RFC 959 §4.1.3: like LIST, but over the control connection; streamed, not collected.
        var code = entry.IsDirectory ? ReplyCodes.DirectoryStatus : ReplyCodes.FileStatus;
        await WriteControlAsync(string.Create(CultureInfo.InvariantCulture, $"{code}-Status of {path}:\r\n"));
        var now = _server.Time.GetUtcNow();
        var entries = entry.IsDirectory ? _storage.ListAsync(entry.Path, ct) : One(entry);
        await foreach (var item in entries)
        {
            await WriteControlAsync(" " + ListingFormatter.FormatList(item, now, _user.CanModify) + "\r\n");
        }

        await ReplyAsync(code, "End of status.");
    }

    internal async Task HelpAsync(string argument, CancellationToken ct)
    {
        if (argument.Length > 0)
        {
            var verb = argument.Trim();
            await (CommandTable.Commands.TryGetValue(verb, out var spec)
                ? ReplyAsync(ReplyCodes.Help, $"Syntax: {spec.Syntax}")
                : ReplyAsync(ReplyCodes.NotImplemented, "Unknown command."));
            return;
        }

        var lines = new List<string> { "The following commands are recognized:" };
        lines.AddRange(CommandTable.Commands.Keys.Order(StringComparer.Ordinal).Chunk(10).Select(c => string.Join(' ', c)));
        lines.Add("Help OK.");
        await ReplyAsync(ReplyCodes.Help, lines);
    }

    internal async Task FeatAsync(string argument, CancellationToken ct)
    {
        // RFC 2389 §3.2: each feature line starts with a space. Only what works with this storage is listed.
        var lines = new List<string> { "Features:" };
        if (_server.Certificate is not null)
        {
            lines.AddRange(["AUTH TLS", "PBSZ", "PROT"]);
        }

        lines.Add("UTF8");
        if (_options.AllowActiveMode)
        {
            lines.Add("EPRT");
        }

        lines.AddRange(["EPSV", "MDTM", "SIZE", "REST STREAM", "TVFS", "CLNT", ListingFormatter.FeatureLine(_mlstFacts)]);
        if ((_storage.Capabilities & StorageCapabilities.SetModificationTime) != 0)
        {
            lines.Add("MFMT");
        }

        if (_storage.HashAlgorithms.Count > 0)
        {
            lines.Add("HASH " + string.Join(';', _storage.HashAlgorithms.Select(a => a == _hashAlgorithm ? a + "*" : a)));
            foreach (var (alg, verb) in LegacyHashVerbs)
            {
                if (_storage.HashAlgorithms.Contains(alg))
                {
                    lines.Add(verb);
                }
            }
        }

        lines.Add("End");
        await ReplyAsync(ReplyCodes.SystemStatus, lines);
    }

    private static readonly (string Algorithm, string Verb)[] LegacyHashVerbs =
        [(Hashing.Crc32, "XCRC"), (Hashing.Md5, "XMD5"), (Hashing.Sha1, "XSHA1"), (Hashing.Sha256, "XSHA256")];

    internal async Task OptsAsync(string argument, CancellationToken ct)
    {
        var parts = argument.Split(' ', 2, StringSplitOptions.TrimEntries);
        var option = parts.Length > 1 ? parts[1] : string.Empty;
        switch (parts[0].ToUpperInvariant())
        {
            case "UTF8" or "UTF-8":
                // RFC 2640: paths are always UTF-8 here; ON and OFF are both accepted.
                await ReplyAsync(ReplyCodes.Okay, "UTF8 mode is always on.");
                break;
            case "MLST":
                _mlstFacts = ListingFormatter.ParseFacts(option);
                await ReplyAsync(ReplyCodes.Okay, $"MLST OPTS {ListingFormatter.FactsText(_mlstFacts)}");
                break;
            case "HASH" when option.Length == 0:
                await ReplyAsync(ReplyCodes.Okay, _hashAlgorithm);
                break;
            case "HASH":
                var algorithm = _storage.HashAlgorithms.FirstOrDefault(a => a.Equals(option, StringComparison.OrdinalIgnoreCase));
                if (algorithm is null)
                {
                    await ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "Unknown algorithm.");
                    break;
                }

                _hashAlgorithm = algorithm;
                await ReplyAsync(ReplyCodes.Okay, algorithm);
                break;
            default:
                await ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "Option not understood.");
                break;
        }
    }

    // ---- Security (RFC 4217) --------------------------------------------------------------------

    internal async Task AuthAsync(string argument, CancellationToken ct)
    {
        if (_server.Certificate is null)
        {
            await ReplyAsync(ReplyCodes.NotImplemented, "TLS is not configured on this server.");
            return;
        }

        if (_tlsActive)
        {
            await ReplyAsync(ReplyCodes.BadSequence, "The control connection is already secured.");
            return;
        }

        if (argument.Trim().ToUpperInvariant() is not ("TLS" or "TLS-C" or "SSL"))
        {
            await ReplyAsync(ReplyCodes.NotImplementedForParameter, "Only AUTH TLS is supported.");
            return;
        }

        await ReplyAsync(ReplyCodes.SecurityExchangeOkay, "AUTH TLS successful.");
        if (await UpgradeControlToTlsAsync())
        {
            _tlsActive = true;
            ResetLogin(); // RFC 4217 §4: a new security context starts a new login.
        }
    }

    internal async Task PbszAsync(string argument, CancellationToken ct)
    {
        if (!_tlsActive)
        {
            await ReplyAsync(ReplyCodes.BadSequence, "PBSZ needs AUTH TLS first.");
            return;
        }

        _pbszSet = true;
        await ReplyAsync(ReplyCodes.Okay, "PBSZ=0");
    }

    internal async Task ProtAsync(string argument, CancellationToken ct)
    {
        if (!_tlsActive || !_pbszSet)
        {
            await ReplyAsync(ReplyCodes.BadSequence, "PROT needs AUTH TLS and PBSZ first.");
            return;
        }

        switch (argument.Trim().ToUpperInvariant())
        {
            case "P":
                _protectData = true;
                await ReplyAsync(ReplyCodes.Okay, "Data protection level set to private.");
                break;
            case "C" when _options.Tls.Required:
                await ReplyAsync(ReplyCodes.ProtectionLevelDenied, "This server requires PROT P.");
                break;
            case "C":
                _protectData = false;
                await ReplyAsync(ReplyCodes.Okay, "Data protection level set to clear.");
                break;
            case "S" or "E":
                await ReplyAsync(536, "Only PROT C and P are supported."); // RFC 2228 §4: level not supported
                break;
            default:
                await ReplyAsync(ReplyCodes.SyntaxErrorInParameters, "Syntax: PROT {C|P}");
                break;
        }
    }

    // ---- Helpers --------------------------------------------------------------------------------

    private bool TryResolve(string argument, out StoragePath path) => StoragePath.TryResolve(_cwd, argument, out path);

    private async Task<StoragePath?> TryResolveOrReply(string argument)
    {
        if (TryResolve(argument, out var path))
        {
            return path;
        }

        await ReplyInvalidName();
        return null;
    }

    private Task ReplyInvalidName() => ReplyAsync(ReplyCodes.FileNameNotAllowed, "File name not allowed.");

    /// <summary>A virtual path (what the user sees) as a path in the storage: under the user's root.</summary>
    private StoragePath ToStorage(StoragePath path) => _user!.Root.Append(path);

    private async Task<bool> Require(bool allowed)
    {
        if (!allowed)
        {
            await ReplyAsync(ReplyCodes.FileUnavailable, "Permission denied.");
        }

        return allowed;
    }

    /// <summary>For commands that read: permission, path, and an existing entry — or the reply saying which is missing.</summary>
    private async Task<(StoragePath Path, StorageEntry Entry)?> ReadableEntryOrReply(string argument, CancellationToken ct)
    {
        if (!await Require(_user!.CanRead) || await TryResolveOrReply(argument) is not { } path)
        {
            return null;
        }

        var entry = await _storage.GetEntryAsync(ToStorage(path), ct);
        if (entry is null)
        {
            await ReplyAsync(ReplyCodes.FileUnavailable, "No such file or directory.");
            return null;
        }

        return (path, entry);
    }

    private async Task<StorageEntry?> StatFileOrReply(string argument, CancellationToken ct)
    {
        if (await TryResolveOrReply(argument) is not { } path)
        {
            return null;
        }

        var entry = await _storage.GetEntryAsync(ToStorage(path), ct);
        if (entry is null || entry.IsDirectory)
        {
            await ReplyAsync(ReplyCodes.FileUnavailable, entry is null ? "No such file." : "Not a regular file.");
            return null;
        }

        return entry;
    }

    private string Facts(StorageEntry entry, string name, string? type = null) =>
        ListingFormatter.FormatFacts(entry, _mlstFacts, entry.IsDirectory ? DirectoryPermissions : FilePermissions, name, type);

    // RFC 3659 §7.5.5 perm fact letters, from what this user may do.
    private string FilePermissions => _user!.Permissions switch
    {
        UserPermissions.Full => "adfrw",
        UserPermissions.ReadOnly => "r",
        _ => "aw",
    };

    private string DirectoryPermissions => _user!.Permissions switch
    {
        UserPermissions.Full => "cdeflmp",
        UserPermissions.ReadOnly => "el",
        _ => "cem",
    };

    /// <summary>RFC 959 Appendix II: a path in a 257 reply is quoted, embedded quotes doubled.</summary>
    private static string Quote(StoragePath path) => "\"" + path.Value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>"LIST -la dir": ls options some clients send are not part of the path.</summary>
    private static string StripListOptions(string argument)
    {
        var rest = argument.TrimStart();
        while (rest.StartsWith('-'))
        {
            var space = rest.IndexOf(' ', StringComparison.Ordinal);
            rest = space < 0 ? string.Empty : rest[(space + 1)..].TrimStart();
        }

        return rest;
    }

    private static async IAsyncEnumerable<StorageEntry> One(StorageEntry entry)
    {
        await Task.CompletedTask;
        yield return entry;
    }
}
