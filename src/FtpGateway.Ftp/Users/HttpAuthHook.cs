using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FtpGateway.Ftp.Security;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Users;

/// <summary>Configuration section <c>Auth</c>.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    public AuthHttpOptions Http { get; set; } = new();
}

/// <summary>Configuration section <c>Auth:Http</c>: an HTTP service that authenticates users not defined here.</summary>
public sealed class AuthHttpOptions : IValidatedOptions
{
    /// <summary>Where the hook is POSTed; empty: no hook.</summary>
    public string? Url { get; set; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a successful answer is reused for the same user and password; zero: never.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A PEM file of CA certificates trusted for an HTTPS hook, besides the system's.</summary>
    public string? CaFile { get; set; }

    /// <summary>The start-up checks, naming the key.</summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Url))
        {
            yield break;
        }

        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            yield return $"Auth:Http:Url '{Url}' must be an absolute http:// or https:// URL";
        }

        if (Timeout <= TimeSpan.Zero || CacheDuration < TimeSpan.Zero)
        {
            yield return "Auth:Http:Timeout must be positive and Auth:Http:CacheDuration not negative";
        }

        if (!string.IsNullOrWhiteSpace(CaFile) && !File.Exists(CaFile))
        {
            yield return $"Auth:Http:CaFile '{CaFile}' does not exist";
        }
    }
}

/// <summary>What the hook said.</summary>
internal enum HookVerdict
{
    LoggedIn,
    Denied,
    Unavailable,

    /// <summary>Not asked: the client was banned while its request waited for its turn.</summary>
    Skipped,
}

/// <summary>
/// The HTTP authentication hook: for a user not defined in configuration or the users file, POSTs
/// <c>{"user", "password", "clientAddress", "tls"}</c> (with a Content-Length: minimal servers such as Python's
/// http.server read no body without one). <c>200</c> with a user object (the users file's fields, <c>root</c> and
/// <c>permissions</c> required: an answer that leaves them out would put the user at the storage root with every
/// right) logs in with those settings; <c>401</c>, <c>403</c>, <c>404</c> deny; anything else, a timeout or a body
/// that is not a valid user is "unavailable" (the client is told to try later), never a login. Requests are taken
/// in turns per client (<see cref="ClientTurns"/>: at most 4 at a time per client, 32 in all) and skipped for a
/// client banned while it waited. Successes are cached for <see cref="AuthHttpOptions.CacheDuration"/> under the
/// user, the client's address, whether it came over TLS, and an HMAC of the password with a key that lives only in
/// this process: a decision the hook made for one address or for TLS is never reused for another, and the password
/// is never kept or logged in clear.
/// </summary>
internal sealed class HttpAuthHook : IDisposable
{
    private const int MaxCached = 10_000;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly AuthHttpOptions _options;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly byte[] _cacheKey = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, (FtpUser User, long Expires)> _cache = new(StringComparer.Ordinal);
    private readonly ClientTurns _turns = new(32, perClient: 4);

    public HttpAuthHook(AuthHttpOptions options, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        // No redirects: a 307 would re-send the password to wherever the hook points.
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false };
        if (!string.IsNullOrWhiteSpace(options.CaFile))
        {
            var extra = new X509Certificate2Collection();
            extra.ImportFromPemFile(options.CaFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                errors == SslPolicyErrors.None || (errors == SslPolicyErrors.RemoteCertificateChainErrors && TrustedBy(extra, certificate, chain));
        }

        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Requests waiting for their client's turn now.</summary>
    public int Waiting => _turns.Waiting;

    /// <summary>
    /// Asks the hook (or the cache) about <paramref name="user"/>, in the client's turn; <see cref="HookVerdict.Skipped"/>
    /// when <paramref name="stillWanted"/> says no by then.
    /// </summary>
    public async Task<(HookVerdict Verdict, FtpUser? User)> AuthenticateAsync(string user, string password, IPAddress client, bool tls, Func<bool> stillWanted, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        var key = CacheKey(user, password, client, tls);
        if (_cache.TryGetValue(key, out var cached) && _time.GetTimestamp() < cached.Expires)
        {
            return (HookVerdict.LoggedIn, cached.User);
        }

        return await _turns.RunAsync(client, token => AskAsync(user, password, client, tls, key, token), stillWanted, (HookVerdict.Skipped, (FtpUser?)null), ct);
    }

    private async Task<(HookVerdict Verdict, FtpUser? User)> AskAsync(string user, string password, IPAddress client, bool tls, string key, CancellationToken ct)
    {
        using var deadline = new CancellationTokenSource(_options.Timeout, _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        HttpResponseMessage response;
        try
        {
            using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new { user, password, clientAddress = client.ToString(), tls }));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            response = await _http.PostAsync(_options.Url, content, timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            Log.AuthHookFailed(_logger, LogText.Sanitize(user), ex is OperationCanceledException ? "no answer in time" : ex.Message);
            return (HookVerdict.Unavailable, null);
        }

        using (response)
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound:
                    return (HookVerdict.Denied, null);
                case HttpStatusCode.OK:
                    break;
                default:
                    Log.AuthHookFailed(_logger, LogText.Sanitize(user), $"answered {(int)response.StatusCode}");
                    return (HookVerdict.Unavailable, null);
            }

            FtpUser answer;
            try
            {
                using var body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), cancellationToken: timeout.Token);
                var options = body.RootElement.Deserialize<UserOptions>(Json) ?? throw new JsonException("empty body");
                if (!string.IsNullOrEmpty(options.Name) && options.Name != user)
                {
                    throw new JsonException($"the answer names another user ('{LogText.Sanitize(options.Name)}')");
                }

                if (options.Disabled)
                {
                    return (HookVerdict.Denied, null);
                }

                // No defaults here: the default root is the storage's root and the default permissions Full.
                if (Missing(body.RootElement, "root", "permissions") is { Length: > 0 } missing)
                {
                    Log.AuthHookFailed(_logger, LogText.Sanitize(user), $"the answer does not say {missing}; refused (an answer must name the user's root and permissions)");
                    return (HookVerdict.Unavailable, null);
                }

                options.Name = user;
                answer = UserDirectory.Build(options, "the HTTP hook's answer", requirePassword: false) with { FromHook = true };
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException
                || (ex is OperationCanceledException && !ct.IsCancellationRequested))
            {
                Log.AuthHookFailed(_logger, LogText.Sanitize(user), "invalid answer: " + ex.Message);
                return (HookVerdict.Unavailable, null);
            }

            if (_options.CacheDuration > TimeSpan.Zero)
            {
                Remember(key, answer);
            }

            return (HookVerdict.LoggedIn, answer);
        }
    }

    private void Remember(string key, FtpUser user)
    {
        var now = _time.GetTimestamp();
        if (_cache.Count >= MaxCached)
        {
            foreach (var expired in _cache.Where(e => e.Value.Expires <= now).Select(e => e.Key).ToList())
            {
                _cache.TryRemove(expired, out _);
            }

            if (_cache.Count >= MaxCached)
            {
                _cache.Clear();
            }
        }

        _cache[key] = (user, now + (long)(_options.CacheDuration.TotalSeconds * _time.TimestampFrequency));
    }

    private string CacheKey(string user, string password, IPAddress client, bool tls) =>
        Convert.ToBase64String(HMACSHA256.HashData(_cacheKey, Encoding.UTF8.GetBytes($"{user}\0{client}\0{(tls ? 1 : 0)}\0{password}")));

    /// <summary>The fields of <paramref name="required"/> the answer leaves out (names compared as the binder does), as one phrase.</summary>
    private static string Missing(JsonElement answer, params string[] required) =>
        string.Join(" or ", required
            .Where(field => answer.ValueKind != JsonValueKind.Object
                || !answer.EnumerateObject().Any(p => p.Name.Equals(field, StringComparison.OrdinalIgnoreCase)
                    && p.Value.ValueKind != JsonValueKind.Null && !(p.Value.ValueKind == JsonValueKind.String && string.IsNullOrWhiteSpace(p.Value.GetString()))))
            .Select(field => $"'{field}'"));

    /// <summary>The server's chain (with the intermediates it sent) built up to one of <paramref name="roots"/>, for server authentication.</summary>
    private static bool TrustedBy(X509Certificate2Collection roots, X509Certificate? certificate, X509Chain? sent)
    {
        if (certificate is not X509Certificate2 leaf)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1")); // serverAuth
        if (sent is not null)
        {
            foreach (var element in sent.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(leaf);
    }

    public void Dispose() => _http.Dispose();
}
