using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FtpGateway.Ftp.Telemetry;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Events;

/// <summary>
/// Tells downstream systems what happened, after it happened: each event is a CloudEvents 1.0 JSON document
/// (structured mode) POSTed to every webhook whose types match, signed when the webhook has a secret. Delivery
/// never holds up a transfer: each webhook has its own queue (<see cref="WebhookQueue"/>), fair between users and
/// in order for each, retried with exponential backoff for up to <see cref="EventOptions.MaxAge"/> — at least
/// once. With a spool directory (<see cref="EventSpool"/>) an event is on disk before <see cref="Publish"/>
/// returns (so before the client's 226), and survives a crash or a restart.
/// </summary>
internal sealed class EventPublisher : IAsyncDisposable
{
    private static readonly JsonSerializerOptions DataJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly List<WebhookQueue> _queues = [];
    private readonly string _source;
    private readonly TimeProvider _time;
    private readonly PathPatterns _ignored = PathPatterns.None;

    public EventPublisher(EventOptions options, ILoggerFactory loggerFactory, FtpTelemetry? telemetry, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _time = time ?? TimeProvider.System;
        _source = "/ftpgateway/" + Environment.MachineName;
        _ignored = PathPatterns.Parse(options.IgnorePaths, "Events:IgnorePaths", []);
        var logger = loggerFactory.CreateLogger("FtpGateway.Events");
        for (var i = 0; i < options.Webhooks.Count; i++)
        {
            _queues.Add(new WebhookQueue(i, options.Webhooks[i], options, logger, telemetry, _time, handler));
        }

        telemetry?.ObserveEventsPending(() => _queues.Sum(q => q.Pending));
        telemetry?.StartEventsAtZero();
    }

    /// <summary>A publisher with no webhooks: every event is dropped at once.</summary>
    public static EventPublisher None { get; } = new(new EventOptions(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, null);

    public bool Enabled => _queues.Count > 0;

    /// <summary>Whether <paramref name="path"/> is one of Events:IgnorePaths (no events, no per-user upload counts).</summary>
    public bool Ignores(string? path) => _ignored.Matches(path);

    /// <summary>
    /// Queues an event for every webhook that wants <paramref name="type"/>. <paramref name="data"/> becomes the
    /// event's <c>data</c> (properties in camelCase); the current span's W3C traceparent its <c>traceparent</c>
    /// extension. <paramref name="user"/> is whose line of each webhook's queue it joins ("" for none).
    /// </summary>
    internal void Publish<TData>(string type, string? subject, string user, TData data)
    {
        if (_queues.Count == 0 || _ignored.Matches(subject))
        {
            return;
        }

        var body = new JsonObject
        {
            ["specversion"] = "1.0",
            ["id"] = Guid.NewGuid().ToString("N"),
            ["source"] = _source,
            ["type"] = type,
            ["time"] = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
            ["datacontenttype"] = "application/json",
        };
        if (subject is not null)
        {
            body["subject"] = subject;
        }

        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity)
        {
            body["traceparent"] = activity.Id;
        }

        body["data"] = JsonSerializer.SerializeToNode(data, DataJson);
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        foreach (var queue in _queues.Where(q => q.Wants(type)))
        {
            queue.Add(bytes, user); // never throws: what happened has happened, whatever becomes of its event
        }
    }

    /// <summary>
    /// Stops delivering: without a spool after a moment (2 s at most) for the queues to empty; with one after the
    /// deliveries in flight (what is left goes out after the restart).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            await queue.DisposeAsync();
        }
    }
}

