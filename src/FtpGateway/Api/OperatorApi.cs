using System.Globalization;
using System.Net;
using FtpGateway.Ftp;
using FtpGateway.Ftp.Security;
using FtpGateway.Ftp.State;
using FtpGateway.Ftp.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Api;

/// <summary>
/// The operator API on the management port (never the FTP port), JSON, for a bearer token of
/// <c>Management:ApiKeys</c>: sessions (list, end), bans (list, ban, unban), users (activity, reload of the users
/// file), and its OpenAPI document. Across every gateway while the fleet's shared state answers (the response
/// header <c>X-FtpGateway-Scope: fleet</c>), else this gateway (<c>gateway</c>). Every call is audited in the log:
/// which key, what, from where, and the answer.
/// </summary>
internal static partial class OperatorApi
{
    private const string ScopeHeader = "X-FtpGateway-Scope";

    public static void Map(WebApplication app, ApiKeys keys)
    {
        if (!keys.Enabled)
        {
            return; // no key, no API: every /api path is a 404
        }

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FtpGateway.Api");
        app.MapGet("/api/openapi.json", () => Results.Text(OpenApiDocument.Json, "application/json"));
        // Routing matches paths regardless of case: so does the guard (/API/sessions needs the token as /api/sessions does).
        app.UseWhen(
            c => c.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
                && !c.Request.Path.Equals("/api/openapi.json", StringComparison.OrdinalIgnoreCase),
            branch => branch.Use(async (context, next) =>
            {
                var key = keys.Match(context.Request.Headers.Authorization);
                try
                {
                    if (key is null)
                    {
                        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        context.Response.Headers.WWWAuthenticate = "Bearer";
                        await context.Response.WriteAsJsonAsync(new { error = "a valid bearer token of Management:ApiKeys is required" });
                    }
                    else
                    {
                        await next(context);
                    }
                }
                finally
                {
                    // Who, what, from where, and the answer: every call, also one that failed.
                    Called(
                        logger, key is { } k ? $"key {k}" : "no valid key", context.Request.Method, Ftp.LogText.Sanitize(context.Request.Path.Value ?? string.Empty),
                        context.Connection.RemoteIpAddress?.ToString() ?? "?", context.Response.StatusCode);
                }
            }));

        var api = app.MapGroup("/api");
        api.MapGet("/sessions", ListSessionsAsync);
        api.MapDelete("/sessions/{id}", EndSessionAsync);
        api.MapGet("/bans", ListBansAsync);
        api.MapPost("/bans", BanAsync);
        api.MapDelete("/bans/{**address}", UnbanAsync);
        api.MapGet("/users/{name}", UserAsync);
        api.MapPost("/users/reload", Reload);
    }

    private static async Task<IResult> ListSessionsAsync(FtpServer server, HttpContext context, CancellationToken ct)
    {
        var (sessions, fleet) = await server.ListSessionsAsync(ct);
        Scope(context, fleet);
        return Results.Json(sessions.OrderBy(s => s.Started).Select(Session));
    }

    private static async Task<IResult> EndSessionAsync(string id, bool? now, FtpServer server, HttpContext context, CancellationToken ct)
    {
        Scope(context, server.Context.Fleet is not null);
        try
        {
            return await server.EndSessionAsync(id, now == true, ct) is { } gateway
                ? Results.Json(new { id, gateway, now = now == true }, statusCode: StatusCodes.Status202Accepted)
                : Results.Json(new { error = $"no session {id} runs on any gateway" }, statusCode: StatusCodes.Status404NotFound);
        }
        catch (FleetStateUnavailableException ex)
        {
            return Unavailable(ex);
        }
    }

    private static async Task<IResult> ListBansAsync(FtpServer server, HttpContext context, TimeProvider time, CancellationToken ct)
    {
        var bans = await server.Context.FleetBans.InForceAsync(ct);
        Scope(context, server.Context.Fleet is { IsAvailable: true });
        var now = time.GetUtcNow();
        return Results.Json(bans.OrderBy(b => b.Client, StringComparer.Ordinal).Select(b => Ban(b, now)));
    }

    /// <summary>The body of POST /api/bans.</summary>
    internal sealed record BanRequest(string? Address, string? Duration);

    private static async Task<IResult> BanAsync(BanRequest request, FtpServer server, TimeProvider time, CancellationToken ct)
    {
        if (request.Address is null || !IPAddress.TryParse(request.Address.EndsWith("/64", StringComparison.Ordinal) ? request.Address[..^3] : request.Address, out _)
            || !BanList.TryParseClient(request.Address, out var address))
        {
            return Results.Json(new { error = $"address '{request.Address}' is not an IPv4 address, an IPv6 address or an IPv6 /64" }, statusCode: StatusCodes.Status400BadRequest);
        }

        if (ParseDuration(request.Duration) is not { } duration)
        {
            return Results.Json(new { error = $"duration '{request.Duration}' is not a duration between 1 second and 365 days (00:30:00, 30m, 2h, 1d, PT30M)" }, statusCode: StatusCodes.Status400BadRequest);
        }

        if (!server.Context.Bans.Options.Enabled)
        {
            return Results.Json(new { error = "bans are off (Security:Bans:Enabled=false)" }, statusCode: StatusCodes.Status409Conflict);
        }

        var client = BanList.ClientKey(address);
        await server.Context.FleetBans.BanAsync(client, duration, ct);
        return Results.Json(Ban(new FleetBan(client, duration, 1), time.GetUtcNow()), statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> UnbanAsync(string address, FtpServer server, CancellationToken ct)
    {
        var text = Uri.UnescapeDataString(address);
        if (!BanList.TryParseClient(text, out var key))
        {
            return Results.Json(new { error = $"'{text}' is not an IPv4 address or an IPv6 /64" }, statusCode: StatusCodes.Status400BadRequest);
        }

        var client = BanList.ClientKey(key);
        return await server.Context.FleetBans.LiftAsync(client, ct)
            ? Results.Json(new { address = client, lifted = true })
            : Results.Json(new { error = $"{client} is not banned" }, statusCode: StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> UserAsync(string name, FtpServer server, HttpContext context, CancellationToken ct)
    {
        var (record, fleet) = await server.Context.UserRecords.GetAsync(name, ct);
        if (record is null && !server.Context.Users.Current.Defines(name))
        {
            return Results.Json(new { error = $"no user {name} is defined or has logged in" }, statusCode: StatusCodes.Status404NotFound);
        }

        var (sessions, sessionsFleet) = await server.ListSessionsAsync(ct);
        Scope(context, fleet && sessionsFleet);
        return Results.Json(new
        {
            name,
            lastLogin = record?.LastLogin,
            lastUpload = record?.LastUpload,
            sessionsNow = sessions.Count(s => s.User == name),
            uploadsToday = record?.UploadsToday ?? 0,
            bytesToday = record?.BytesToday ?? 0,
        });
    }

    private static IResult Reload(UserStore users)
    {
        var result = users.Reload();
        return Results.Json(
            new { taken = result.Taken, changed = result.Changed, users = result.Users, error = result.Error },
            statusCode: result.Taken ? StatusCodes.Status200OK : StatusCodes.Status422UnprocessableEntity);
    }

    private static object Session(FleetSession s) => new
    {
        id = s.Id,
        user = s.User,
        clientAddress = s.Client,
        gateway = s.Gateway,
        started = s.Started,
        tls = s.Tls,
        transfer = s.Command is null ? null : new { command = s.Command, path = s.Path, bytes = s.Bytes },
    };

    private static object Ban(FleetBan b, DateTimeOffset now) => new
    {
        address = b.Client,
        remainingSeconds = (long)Math.Ceiling(b.Remaining.TotalSeconds),
        until = now + b.Remaining,
        number = b.Number,
    };

    private static void Scope(HttpContext context, bool fleet) => context.Response.Headers[ScopeHeader] = fleet ? "fleet" : "gateway";

    private static IResult Unavailable(FleetStateUnavailableException ex) =>
        Results.Json(new { error = $"the shared state is unavailable, the session may run on another gateway: {ex.Message}" }, statusCode: StatusCodes.Status503ServiceUnavailable);

    /// <summary>00:30:00 (a TimeSpan), 30s/30m/2h/1d, or ISO 8601 (PT30M); between 1 s and 365 days.</summary>
    internal static TimeSpan? ParseDuration(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Trim();
        TimeSpan? value = null;
        if (text.StartsWith('P'))
        {
            try
            {
                value = System.Xml.XmlConvert.ToTimeSpan(text);
            }
            catch (Exception ex) when (ex is FormatException or OverflowException)
            {
            }
        }
        else if (text.Length > 1 && "smhd".Contains(text[^1], StringComparison.Ordinal)
            && double.TryParse(text[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n))
        {
            var seconds = n * text[^1] switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => 86400,
            };
            value = seconds is > 0 and <= 366 * 86400 ? TimeSpan.FromSeconds(seconds) : null;
        }
        else if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            value = span;
        }

        return value is { } v && v >= TimeSpan.FromSeconds(1) && v <= TimeSpan.FromDays(365) ? v : null;
    }

    [LoggerMessage(720, LogLevel.Information, "Operator API: {Key} {Method} {Path} from {ClientAddress}: {Status}")]
    private static partial void Called(ILogger logger, string key, string method, string path, string clientAddress, int status);
}
