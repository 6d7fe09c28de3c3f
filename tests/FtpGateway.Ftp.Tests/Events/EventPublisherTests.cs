using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FtpGateway.Ftp.Events;
using FtpGateway.Ftp.Telemetry;
using FtpGateway.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Events;

/// <summary>Events to a real HTTP receiver on loopback, which can be told to be down.</summary>
public sealed class EventPublisherTests : IAsyncLifetime
{
    private const string Secret = "s3cr3t";
    private readonly List<(JsonElement Event, string? Signature, byte[] Body)> _received = [];
    private readonly TempDirectory _spool = new();
    private readonly FtpTelemetry _telemetry = new();
    private LoopbackHttpServer _receiver = null!;
    private volatile bool _down;
    private volatile bool _slow;
    private string _url = string.Empty;

    public Task InitializeAsync()
    {
        _receiver = new LoopbackHttpServer("events", ReceiveAsync);
        _url = _receiver.Url;
        return Task.CompletedTask;
    }

    private async Task ReceiveAsync(HttpListenerContext context)
    {
        var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body);
        if (_slow)
        {
            await Task.Delay(5);
        }

        if (_down)
        {
            context.Response.StatusCode = 503;
        }
        else if (JsonDocument.Parse(body.ToArray()).RootElement.TryGetProperty("subject", out var subject) && subject.GetString() == "/refused")
        {
            context.Response.StatusCode = 422; // this receiver will never take this event
        }
        else
        {
            Assert.Equal("application/cloudevents+json; charset=utf-8", context.Request.ContentType);
            lock (_received)
            {
                _received.Add((JsonDocument.Parse(body.ToArray()).RootElement.Clone(), context.Request.Headers["X-FtpGateway-Signature"], body.ToArray()));
            }
        }
    }

    private List<JsonElement> Events(string? type = null)
    {
        lock (_received)
        {
            return [.. _received.Select(r => r.Event).Where(e => type is null || e.GetProperty("type").GetString() == type)];
        }
    }

    private EventPublisher Publisher(TimeProvider? time = null, bool spool = false, HttpMessageHandler? handler = null) => new(
        new EventOptions { Webhooks = [new WebhookOptions { Url = _url, Secret = Secret }], SpoolDirectory = spool ? _spool.Path : null },
        NullLoggerFactory.Instance,
        _telemetry,
        time,
        handler);

    [Fact]
    public async Task OneSignedUploadCompleted_PerCommittedUpload_NoneForAKilledOne_AndFileEvents()
    {
        await using var events = Publisher();
        await using var server = await TestServer.StartAsync(events: events);
        await using (var c = await RawFtpClient.LoginAsync(server.Port))
        {
            Assert.Equal(226, (await c.UploadAsync("STOR in.jpg", new byte[4321])).Code);
            await c.ExpectAsync("MKD archive", 257);
            await c.ExpectAsync("RNFR in.jpg", 350);
            await c.ExpectAsync("RNTO archive/in.jpg", 250);
            await c.ExpectAsync("DELE archive/in.jpg", 250);
        }

        // A killed client: data sent, then both connections dropped without a clean end.
        var killed = await RawFtpClient.LoginAsync(server.Port);
        var data = await killed.OpenPassiveAsync();
        await killed.ExpectAsync("STOR killed.jpg", 150);
        await data.SendAsync(new byte[1000]);
        killed.Socket.LingerState = new LingerOption(true, 0);
        await killed.DisposeAsync();
        data.LingerState = new LingerOption(true, 0);
        data.Dispose();
        await Poll.UntilAsync(() => Events(EventTypes.UploadFailed).Count == 1, "the failed upload's event");

        await Poll.UntilAsync(() => Events().Count >= 5, "the events");
        Assert.Equal(5, Events().Count);
        var completed = Assert.Single(Events(EventTypes.UploadCompleted));
        Assert.Equal("1.0", completed.GetProperty("specversion").GetString());
        Assert.Equal("/in.jpg", completed.GetProperty("subject").GetString());
        var d = completed.GetProperty("data");
        Assert.Equal(TestServer.UserName, d.GetProperty("user").GetString());
        Assert.Equal(4321, d.GetProperty("size").GetInt64());
        Assert.Equal("default", d.GetProperty("storageTarget").GetString());
        Assert.Equal(server.Root.File("in.jpg"), d.GetProperty("location").GetString());
        Assert.Equal("connection lost", Events(EventTypes.UploadFailed)[0].GetProperty("data").GetProperty("reason").GetString());
        Assert.Equal("/archive/in.jpg", Assert.Single(Events(EventTypes.FileRenamed)).GetProperty("data").GetProperty("path").GetString());
        Assert.Single(Events(EventTypes.DirectoryCreated));
        Assert.Single(Events(EventTypes.FileDeleted));
        Assert.False(File.Exists(server.Root.File("killed.jpg")));

        // Every body is signed with the webhook's secret, and every id is unique.
        lock (_received)
        {
            Assert.All(_received, r => Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), r.Body)), r.Signature));
            Assert.Equal(_received.Count, _received.Select(r => r.Event.GetProperty("id").GetString()).Distinct().Count());
        }
    }

    [Fact]
    public async Task AReceiverDownFor30Seconds_GetsTheEventsAfterwards_InOrder()
    {
        var time = new FakeTimeProvider();
        using var requests = new InFlightRequests();
        _down = true;
        await using var events = Publisher(time, handler: requests);
        for (var i = 0; i < 3; i++)
        {
            events.Publish(EventTypes.FileDeleted, $"/f{i}", string.Empty, new Dictionary<string, object?> { ["n"] = i });
        }

        // Retries back off (1, 2, 4, 8, 16 s ...) on the clock; 30 s of it pass while the receiver is down. The clock
        // moves only while no request is on its way, so that a request's own 30 s deadline never passes under it.
        for (var second = 0; second < 30;)
        {
            if (requests.Idle)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                second++;
            }

            await Task.Delay(1);
        }

        Assert.Empty(Events());
        _down = false;
        await Poll.UntilAsync(
            () =>
            {
                if (requests.Idle)
                {
                    time.Advance(TimeSpan.FromSeconds(5));
                }

                return Events().Count == 3;
            },
            "the events after the receiver came back");
        Assert.Equal(["/f0", "/f1", "/f2"], Events().Select(e => e.GetProperty("subject").GetString()));
    }

    [Fact]
    public async Task WithASpool_EventsQueuedBeforeARestart_AreDeliveredAfterIt()
    {
        _down = true;
        await using (var before = Publisher(spool: true))
        {
            for (var i = 0; i < 3; i++)
            {
                before.Publish(EventTypes.UploadCompleted, $"/img{i}.jpg", string.Empty, new Dictionary<string, object?> { ["n"] = i });
            }

            Assert.Equal(3, Directory.GetFiles(_spool.Path, "*.json", SearchOption.AllDirectories).Length); // on disk at once
        }

        _down = false;
        await using var after = Publisher(spool: true);
        await Poll.UntilAsync(() => Events().Count == 3, "the spooled events");
        Assert.Equal(["/img0.jpg", "/img1.jpg", "/img2.jpg"], Events().Select(e => e.GetProperty("subject").GetString()));
        await Poll.UntilAsync(() => Directory.GetFiles(_spool.Path, "*.json", SearchOption.AllDirectories).Length == 0, "the spool emptied");
    }

    [Fact]
    public async Task AnEventOlderThanMaxAge_IsDropped()
    {
        var time = new FakeTimeProvider();
        using var requests = new InFlightRequests();
        _down = true;
        var options = new EventOptions { Webhooks = [new WebhookOptions { Url = _url }], MaxAge = TimeSpan.FromMinutes(10) };
        await using var events = new EventPublisher(options, NullLoggerFactory.Instance, _telemetry, time, requests);
        events.Publish(EventTypes.FileDeleted, "/old", string.Empty, new Dictionary<string, object?>());
        await Poll.UntilAsync(
            () =>
            {
                if (requests.Idle)
                {
                    time.Advance(TimeSpan.FromMinutes(1));
                }

                return time.GetUtcNow() - time.Start > TimeSpan.FromMinutes(12);
            },
            "twelve minutes of retries");
        _down = false;
        await Poll.UntilAsync(() => requests.Idle, "no request on its way");
        time.Advance(TimeSpan.FromMinutes(5));
        events.Publish(EventTypes.FileDeleted, "/new", string.Empty, new Dictionary<string, object?>());
        await Poll.UntilAsync(
            () =>
            {
                if (requests.Idle)
                {
                    time.Advance(TimeSpan.FromMinutes(1));
                }

                return Events().Count > 0;
            },
            "the new event");
        Assert.Equal(["/new"], Events().Select(e => e.GetProperty("subject").GetString()));
    }

    [Fact]
    public async Task AnEventTheReceiverRefusesForGood_IsDropped_AndDoesNotBlockTheNext()
    {
        await using var events = Publisher();
        events.Publish(EventTypes.FileDeleted, "/refused", string.Empty, new Dictionary<string, object?>());
        events.Publish(EventTypes.FileDeleted, "/next", string.Empty, new Dictionary<string, object?>());
        await Poll.UntilAsync(() => Events().Count == 1, "the next event");
        Assert.Equal("/next", Events()[0].GetProperty("subject").GetString());
    }

    [Fact]
    public async Task ASpoolThatCannotBeWritten_DropsTheEvent_AndNeverFailsTheCaller()
    {
        await using var events = Publisher(spool: true);
        var webhookSpool = Directory.GetDirectories(_spool.Path).Single();
        Directory.Delete(webhookSpool); // the spool's directory vanishes (a volume gone read-only would do the same)
        events.Publish(EventTypes.UploadCompleted, "/lost", string.Empty, new Dictionary<string, object?>()); // must not throw
        Directory.CreateDirectory(webhookSpool);
        events.Publish(EventTypes.UploadCompleted, "/kept", string.Empty, new Dictionary<string, object?>());
        await Poll.UntilAsync(() => Events().Count == 1, "the event written to the spool");
        Assert.Equal("/kept", Events()[0].GetProperty("subject").GetString());
    }

    [Fact]
    public async Task OneUsersFlood_DelaysAnothersEvent_ByAtMostOneDelivery()
    {
        // Regression: 3,000-15,000 MKD/RMD events of one user queued ahead of another's upload.completed.
        _slow = true; // each delivery takes a few milliseconds, as a real receiver's do
        await using var events = Publisher();
        for (var i = 0; i < 600; i++)
        {
            events.Publish(EventTypes.DirectoryCreated, $"/a/{i}", "chatty", new Dictionary<string, object?> { ["user"] = "chatty" });
        }

        events.Publish(EventTypes.UploadCompleted, "/b/photo.jpg", "quiet", new Dictionary<string, object?> { ["user"] = "quiet" });
        var before = Events(EventTypes.DirectoryCreated).Count; // delivery began while the flood was being queued
        await Poll.UntilAsync(() => Events(EventTypes.UploadCompleted).Count == 1, "the quiet user's event");

        // Counted in the order received (the flood goes on while this test looks): the one in flight, and at most one turn.
        var ahead = Events().TakeWhile(e => e.GetProperty("type").GetString() != EventTypes.UploadCompleted).Count();
        Assert.InRange(ahead - before, 0, 2);
        Assert.True(before < 400, $"{before} of the flood went out before the quiet event was even queued: the test proves nothing");

        // Each user's own events stay in order.
        _slow = false;
        await Poll.UntilAsync(() => Events().Count == 601, "every event");
        Assert.Equal(Enumerable.Range(0, 600).Select(i => $"/a/{i}"), Events(EventTypes.DirectoryCreated).Select(e => e.GetProperty("subject").GetString()));
    }

    [Fact]
    public async Task AFullSpool_DropsTheFloodingUsersOldestEvents_NeverAnotherUsers()
    {
        // Regression: with a dead receiver and a small spool, 300 MKD/RMD of one user evicted another's event.
        _down = true;
        var options = new EventOptions { Webhooks = [new WebhookOptions { Url = _url }], SpoolDirectory = _spool.Path, MaxSpoolBytes = 20_000 };
        await using var events = new EventPublisher(options, NullLoggerFactory.Instance, _telemetry);
        events.Publish(EventTypes.UploadCompleted, "/b/photo.jpg", "quiet", new Dictionary<string, object?> { ["user"] = "quiet" });
        for (var i = 0; i < 300; i++)
        {
            events.Publish(EventTypes.DirectoryCreated, $"/a/{i}", "chatty", new Dictionary<string, object?> { ["user"] = "chatty" });
        }

        _down = false;
        await Poll.UntilAsync(() => Events(EventTypes.UploadCompleted).Count == 1, "the quiet user's event, kept");
        await Poll.UntilAsync(() => Directory.GetFiles(_spool.Path, "*.json", SearchOption.AllDirectories).Length == 0, "the spool emptied");
        var chatty = Events(EventTypes.DirectoryCreated).Select(e => e.GetProperty("subject").GetString()).ToList();
        Assert.InRange(chatty.Count, 1, 299);        // the flood lost its oldest events ...
        Assert.Equal("/a/299", chatty[^1]);          // ... and kept its newest, in order
        Assert.Equal(chatty.Order(StringComparer.Ordinal).Count(), chatty.Distinct().Count());
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        _spool.Dispose();
        _telemetry.Dispose();
    }

    /// <summary>Counts the requests on their way: a test moves its fake clock only while there are none.</summary>
    private sealed class InFlightRequests() : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _inFlight;

        public bool Idle => Volatile.Read(ref _inFlight) == 0;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _inFlight);
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }
}
