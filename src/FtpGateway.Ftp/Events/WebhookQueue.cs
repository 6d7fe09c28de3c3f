using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using FtpGateway.Ftp.Telemetry;
using Microsoft.Extensions.Logging;

namespace FtpGateway.Ftp.Events;

/// <summary>
/// One webhook's pending events and the loop that delivers them. Events wait in one line per user, in the order
/// they happened; the loop serves the users' lines in turn, one event each, so one user's thousands of events
/// delay another's by at most the delivery in flight and one more. When the pending events exceed <see cref="EventOptions.MaxSpoolBytes"/>,
/// the oldest event of the user with the most bytes waiting is dropped: a flood costs its own events only.
/// </summary>
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
    private readonly EventSpool? _spool;
    private readonly Dictionary<string, UserLine> _lines = new(StringComparer.Ordinal);
    private readonly LinkedList<UserLine> _turns = new(); // the lines with events waiting, in the order they are served
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stopping = new(); // ends everything, a delivery in flight too
    private readonly CancellationTokenSource _finishing = new(); // ends the waits: a delivery in flight goes on, no new one starts
    private readonly CancellationTokenSource _waits;
    private readonly Task _loop;
    private readonly HashSet<string> _types;
    private readonly Lock _adding = new();
    private long _bytes;
    private int _pending;
    private TaskCompletionSource _emptied = Completed(); // completes whenever nothing is pending

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
            (_spool, var left) = EventSpool.Open(options.SpoolDirectory, index, hook.Url, time);
            left.ForEach(Enqueue);
            if (left.Count > 0)
            {
                SpoolReplayed(_logger, _index, left.Count);
            }
        }

        _waits = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, _finishing.Token);
        _loop = Task.Run(() => DeliverAsync(_stopping.Token));
    }

    public int Pending => Volatile.Read(ref _pending);

    public bool Wants(string type) => _types.Count == 0 || _types.Contains(type);

    /// <summary>Queues an event about <paramref name="user"/> (empty: none); never throws.</summary>
    public void Add(byte[] body, string user)
    {
        // One at a time: the order in the queue is the order in the spool, so a restart replays the same order.
        lock (_adding)
        {
            var created = _time.GetUtcNow();
            string? file = null;
            try
            {
                // Written and flushed before Publish returns: an event the client was told about survives a crash.
                file = _spool?.Write(body, created);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _telemetry?.EventsDropped.Add(1, new KeyValuePair<string, object?>("reason", "spool_error"));
                EventDropped(_logger, _index, $"it could not be written to the spool: {ex.Message}");
                return;
            }

            Enqueue(new PendingEvent(body, created, user, file));
        }
    }

    private void Enqueue(PendingEvent pending)
    {
        lock (_lines)
        {
            if (!_lines.TryGetValue(pending.User, out var line))
            {
                _lines[pending.User] = line = new UserLine(pending.User);
            }

            if (line.Events.Count == 0)
            {
                _turns.AddLast(line.Turn);
            }

            line.Events.AddLast(pending);
            line.Bytes += pending.Body.Length;
            _bytes += pending.Body.Length;
            if (_pending++ == 0)
            {
                _emptied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            while (_bytes > _options.MaxSpoolBytes && _pending > 1)
            {
                var largest = _turns.MaxBy(l => l.Bytes)!;
                Remove(largest.Events.First!.Value);
                _telemetry?.EventsDropped.Add(1, new KeyValuePair<string, object?>("reason", "spool_full"));
                EventDropped(_logger, _index, "the spool is full (Events:MaxSpoolBytes); dropped the oldest event of the user with the most waiting");
            }
        }

        _signal.Release();
    }

    /// <summary>The event whose turn it is, the next user's line moving up; null when nothing waits.</summary>
    private PendingEvent? TakeTurn()
    {
        lock (_lines)
        {
            if (_turns.First is not { } turn)
            {
                return null;
            }

            _turns.RemoveFirst();
            _turns.AddLast(turn); // served now; the others first next time
            return turn.Value.Events.First!.Value;
        }
    }

    /// <summary>Takes an event out of its line (delivered, refused, expired, or evicted) and off the disk.</summary>
    private void Remove(PendingEvent pending)
    {
        lock (_lines)
        {
            if (!_lines.TryGetValue(pending.User, out var line) || !line.Events.Remove(pending))
            {
                return;
            }

            line.Bytes -= pending.Body.Length;
            _bytes -= pending.Body.Length;
            if (--_pending == 0)
            {
                _emptied.TrySetResult();
            }

            if (line.Events.Count == 0)
            {
                _turns.Remove(line.Turn);
                _lines.Remove(line.User);
            }
        }

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

    private async Task DeliverAsync(CancellationToken ct)
    {
        var failures = 0;
        while (!_waits.IsCancellationRequested)
        {
            try
            {
                failures = await DeliverNextAsync(failures, ct);
            }
            catch (OperationCanceledException) when (_waits.IsCancellationRequested)
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

    /// <summary>Delivers (or drops, or backs off for) the next user's oldest event; returns the count of failures in a row.</summary>
    private async Task<int> DeliverNextAsync(int failures, CancellationToken ct)
    {
        if (TakeTurn() is not { } next)
        {
            await _signal.WaitAsync(_waits.Token);
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
                Remove(next);
                _telemetry?.EventsDelivered.Add(1);
                return 0;
            case Delivery.Refused:
                Drop(next, "refused", "the receiver refused it for good (4xx)");
                return 0;
            default:
                _telemetry?.EventsFailedAttempts.Add(1);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(failures, 16)))), _time, _waits.Token);
                return failures + 1;
        }
    }

    private void Drop(PendingEvent pending, string reason, string text)
    {
        Remove(pending);
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

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30), _time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
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

    [LoggerMessage(601, LogLevel.Information, "Webhook {Webhook}: delivery failed, will retry: {Reason}")]
    private static partial void DeliveryFailed(ILogger logger, int webhook, string reason);

    [LoggerMessage(603, LogLevel.Warning, "Webhook {Webhook}: delivery failing, retrying with backoff: {Reason}")]
    private static partial void DeliveryFailing(ILogger logger, int webhook, string reason);

    [LoggerMessage(604, LogLevel.Error, "Webhook {Webhook}: the delivery loop failed; it goes on")]
    private static partial void LoopFailed(ILogger logger, Exception exception, int webhook);

    [LoggerMessage(605, LogLevel.Information, "Webhook {Webhook}: {Count} events from the spool to deliver")]
    private static partial void SpoolReplayed(ILogger logger, int webhook, int count);

    [LoggerMessage(602, LogLevel.Error, "Webhook {Webhook}: an event was dropped: {Reason}")]
    private static partial void EventDropped(ILogger logger, int webhook, string reason);

    private Task EmptiedAsync()
    {
        lock (_lines)
        {
            return _emptied.Task;
        }
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    public async ValueTask DisposeAsync()
    {
        // Without a spool, a moment (2 s at most, on the clock) for what is queued to go out; whatever remains is
        // lost. With one, what remains is on disk and goes out after the restart: only the delivery in flight is
        // let finish (a cut one would be sent again), within the same bound.
        var bound = TimeSpan.FromSeconds(2);
        if (_spool is null)
        {
            await EmptiedAsync().WaitAsync(bound, _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await _finishing.CancelAsync();
        await _loop.WaitAsync(bound, _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _stopping.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _http.Dispose();
        _signal.Dispose();
        _waits.Dispose();
        _finishing.Dispose();
        _stopping.Dispose();
    }

    /// <summary>One user's events, oldest first, and its place among the turns.</summary>
    private sealed class UserLine
    {
        public UserLine(string user)
        {
            User = user;
            Turn = new LinkedListNode<UserLine>(this);
        }

        public string User { get; }

        public LinkedList<PendingEvent> Events { get; } = new();

        public LinkedListNode<UserLine> Turn { get; }

        public long Bytes { get; set; }
    }
}
