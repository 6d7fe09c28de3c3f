using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FtpGateway.Ftp.Telemetry;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Events;

/// <summary>
/// Tells downstream systems what happened, after it happened: each event is a CloudEvents 1.0 JSON document
/// (structured mode) POSTed to every webhook whose types match, signed when the webhook has a secret. Delivery
/// never holds up a transfer: each webhook has its own queue, delivered in order, retried with exponential
/// backoff for up to <see cref="EventOptions.MaxAge"/> — at least once. With a spool directory an event is on
/// disk before <see cref="Publish"/> returns (so before the client's 226), and survives a crash or a restart.
/// </summary>
public sealed class EventPublisher : IAsyncDisposable
{
    private readonly List<WebhookQueue> _queues = [];
    private readonly string _source;
    private readonly TimeProvider _time;

    public EventPublisher(EventOptions options, ILoggerFactory loggerFactory, FtpTelemetry? telemetry, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _time = time ?? TimeProvider.System;
        _source = "/ftpgateway/" + Environment.MachineName;
        var logger = loggerFactory.CreateLogger("FtpGateway.Events");
        for (var i = 0; i < options.Webhooks.Count; i++)
        {
            _queues.Add(new WebhookQueue(i, options.Webhooks[i], options, logger, telemetry, _time, handler));
        }

        telemetry?.ObserveEventsPending(() => _queues.Sum(q => q.Pending));
    }

    /// <summary>A publisher with no webhooks: every event is dropped at once.</summary>
    public static EventPublisher None { get; } = new(new EventOptions(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, null);

    public bool Enabled => _queues.Count > 0;

    /// <summary>
    /// Queues an event for every webhook that wants <paramref name="type"/>. <paramref name="data"/> becomes the
    /// event's <c>data</c>; the current span's W3C traceparent its <c>traceparent</c> extension.
    /// </summary>
    public void Publish(string type, string? subject, IReadOnlyDictionary<string, object?> data)
    {
        if (_queues.Count == 0)
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

        body["data"] = JsonSerializer.SerializeToNode(data);
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        foreach (var queue in _queues.Where(q => q.Wants(type)))
        {
            queue.Add(bytes); // never throws: what happened has happened, whatever becomes of its event
        }
    }

    /// <summary>Waits (bounded) for the queues to empty, then stops delivering; what is left stays in the spool.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            await queue.DisposeAsync();
        }
    }
}

/// <summary>One webhook's pending events, in order, and the loop that delivers them.</summary>
internal sealed partial class WebhookQueue : IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    private readonly int _index;
    private readonly WebhookOptions _hook;
    private readonly EventOptions _options;
    private readonly ILogger _logger;
    private readonly FtpTelemetry? _telemetry;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly string? _spool;
    private readonly LinkedList<PendingEvent> _pending = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private readonly HashSet<string> _types;
    private readonly Lock _adding = new();
    private long _bytes;
    private long _sequence;

    public WebhookQueue(int index, WebhookOptions hook, EventOptions options, ILogger logger, FtpTelemetry? telemetry, TimeProvider time, HttpMessageHandler? handler)
    {
        _index = index;
        _hook = hook;
        _options = options;
        _logger = logger;
        _telemetry = telemetry;
        _time = time;
        _types = new HashSet<string>(hook.Types, StringComparer.Ordinal);
        _http = handler is null
            ? new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan }
            : new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrWhiteSpace(options.SpoolDirectory))
        {
            // One directory per webhook, named by its position and URL: a changed URL does not inherit another's events.
            var name = $"webhook-{index}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(hook.Url)))[..12]}";
            _spool = Directory.CreateDirectory(Path.Combine(options.SpoolDirectory, name)).FullName;
            foreach (var orphan in Directory.GetFiles(_spool, "*.tmp"))
            {
                File.Delete(orphan); // a write a crash interrupted: never acknowledged to anyone
            }

            foreach (var file in Directory.GetFiles(_spool, "*.json").Order(StringComparer.Ordinal))
            {
                Enqueue(new PendingEvent(File.ReadAllBytes(file), CreatedFrom(file), file));
            }

            _sequence = _pending.Count;
            if (_pending.Count > 0)
            {
                SpoolReplayed(_logger, _index, _pending.Count);
            }
        }

        _loop = Task.Run(() => DeliverAsync(_stopping.Token));
    }

    public int Pending
    {
        get
        {
            lock (_pending)
            {
                return _pending.Count;
            }
        }
    }

    public bool Wants(string type) => _types.Count == 0 || _types.Contains(type);

    public void Add(byte[] body)
    {
        // One at a time: the order in the queue is the order in the spool, so a restart replays the same order.
        lock (_adding)
        {
            var created = _time.GetUtcNow();
            string? file = null;
            try
            {
                if (_spool is not null)
                {
                    // Written and flushed before Publish returns: an event the client was told about survives a crash.
                    file = Path.Combine(_spool, string.Create(CultureInfo.InvariantCulture, $"{created.UtcTicks:D20}-{++_sequence:D10}.json"));
                    using (var stream = new FileStream(file + ".tmp", FileMode.CreateNew, FileAccess.Write))
                    {
                        stream.Write(body);
                        stream.Flush(flushToDisk: true);
                    }

                    File.Move(file + ".tmp", file);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _telemetry?.EventsDropped.Add(1, new KeyValuePair<string, object?>("reason", "spool_error"));
                EventDropped(_logger, _index, $"it could not be written to the spool: {ex.Message}");
                return;
            }

            Enqueue(new PendingEvent(body, created, file));
        }
    }

    private void Enqueue(PendingEvent pending)
    {
        lock (_pending)
        {
            _pending.AddLast(pending);
            _bytes += pending.Body.Length;
            while (_bytes > _options.MaxSpoolBytes && _pending.Count > 1)
            {
                var oldest = _pending.First!.Value;
                Remove(oldest);
                _telemetry?.EventsDropped.Add(1, new KeyValuePair<string, object?>("reason", "spool_full"));
                EventDropped(_logger, _index, "the spool is full (Events:MaxSpoolBytes)");
            }
        }

        _signal.Release();
    }

    /// <summary>Called under the lock.</summary>
    private void Remove(PendingEvent pending)
    {
        if (_pending.Remove(pending))
        {
            _bytes -= pending.Body.Length;
            if (pending.File is not null)
            {
                try
                {
                    File.Delete(pending.File);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    EventDropped(_logger, _index, $"its spool file could not be deleted and may be sent again after a restart: {ex.Message}");
                }
            }
        }
    }

    private async Task DeliverAsync(CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                failures = await DeliverNextAsync(failures, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Whatever went wrong, this webhook keeps being served.
                LoopFailed(_logger, ex, _index);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, CancellationToken.None);
            }
        }
    }

    /// <summary>Delivers (or drops, or backs off for) the oldest event; returns the count of failures in a row.</summary>
    private async Task<int> DeliverNextAsync(int failures, CancellationToken ct)
    {
        PendingEvent? next;
        lock (_pending)
        {
            next = _pending.First?.Value;
        }

        if (next is null)
        {
            await _signal.WaitAsync(ct);
            return failures;
        }

        if (_time.GetUtcNow() - next.Created > _options.MaxAge)
        {
            Drop(next, "max_age", "not delivered within Events:MaxAge");
            return failures;
        }

        switch (await SendAsync(next.Body, failures == 0, ct))
        {
            case Delivery.Delivered:
                lock (_pending)
                {
                    Remove(next);
                }

                _telemetry?.EventsDelivered.Add(1);
                return 0;
            case Delivery.Refused:
                Drop(next, "refused", "the receiver refused it for good (4xx)");
                return 0;
            default:
                _telemetry?.EventsFailedAttempts.Add(1);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(failures, 16)))), _time, ct);
                return failures + 1;
        }
    }

    private void Drop(PendingEvent pending, string reason, string text)
    {
        lock (_pending)
        {
            Remove(pending);
        }

        _telemetry?.EventsDropped.Add(1, new KeyValuePair<string, object?>("reason", reason));
        EventDropped(_logger, _index, text);
    }

    private enum Delivery
    {
        Delivered,
        Failed,
        Refused,
    }

    /// <summary>2xx: delivered; 4xx other than 408 and 429: refused for good (retrying cannot help); else: retry.</summary>
    private async Task<Delivery> SendAsync(byte[] body, bool firstFailure, CancellationToken ct)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/cloudevents+json") { CharSet = "utf-8" };
        using var request = new HttpRequestMessage(HttpMethod.Post, _hook.Url) { Content = content };
        if (!string.IsNullOrEmpty(_hook.Secret))
        {
            request.Headers.Add("X-FtpGateway-Signature", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(_hook.Secret), body)));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return Delivery.Delivered;
            }

            if (status is >= 400 and < 500 and not 408 and not 429)
            {
                return Delivery.Refused;
            }

            Failed($"answered {status}");
            return Delivery.Failed;
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            Failed(ex is OperationCanceledException ? "no answer within 30 s" : ex.Message);
            return Delivery.Failed;
        }

        // The first failure of a run is a Warning (the receiver is down, or refuses); the retries after it are not.
        void Failed(string reason)
        {
            if (firstFailure)
            {
                DeliveryFailing(_logger, _index, reason);
            }
            else
            {
                DeliveryFailed(_logger, _index, reason);
            }
        }
    }

    private static DateTimeOffset CreatedFrom(string file) =>
        long.TryParse(Path.GetFileName(file).AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            ? new DateTimeOffset(ticks, TimeSpan.Zero)
            : DateTimeOffset.UtcNow;

    [LoggerMessage(1, LogLevel.Information, "Webhook {Webhook}: delivery failed, will retry: {Reason}")]
    private static partial void DeliveryFailed(ILogger logger, int webhook, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Webhook {Webhook}: delivery failing, retrying with backoff: {Reason}")]
    private static partial void DeliveryFailing(ILogger logger, int webhook, string reason);

    [LoggerMessage(4, LogLevel.Error, "Webhook {Webhook}: the delivery loop failed; it goes on")]
    private static partial void LoopFailed(ILogger logger, Exception exception, int webhook);

    [LoggerMessage(5, LogLevel.Information, "Webhook {Webhook}: {Count} events from the spool to deliver")]
    private static partial void SpoolReplayed(ILogger logger, int webhook, int count);

    [LoggerMessage(2, LogLevel.Error, "Webhook {Webhook}: an event was dropped: {Reason}")]
    private static partial void EventDropped(ILogger logger, int webhook, string reason);

    public async ValueTask DisposeAsync()
    {
        // A moment for what is queued to go out; whatever remains is in the spool (or, without one, lost).
        for (var i = 0; i < 20 && Pending > 0; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
        }

        await _stopping.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _http.Dispose();
        _signal.Dispose();
        _stopping.Dispose();
    }

    private sealed record PendingEvent(byte[] Body, DateTimeOffset Created, string? File);
}
