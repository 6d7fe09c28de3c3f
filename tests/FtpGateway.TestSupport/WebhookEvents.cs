using System.Net;
using System.Text.Json;

namespace FtpGateway.TestSupport;

/// <summary>A webhook receiver on a real loopback HTTP server that keeps every event it is sent (answering 204).</summary>
public sealed class WebhookEvents : IAsyncDisposable
{
    private readonly List<JsonElement> _events = [];
    private readonly LoopbackHttpServer _server;

    public WebhookEvents()
    {
        _server = new LoopbackHttpServer("events", async context =>
        {
            using var body = await JsonDocument.ParseAsync(context.Request.InputStream);
            lock (_events)
            {
                _events.Add(body.RootElement.Clone());
            }

            context.Response.StatusCode = (int)HttpStatusCode.NoContent;
        });
    }

    /// <summary>Where the gateway is to send them (<c>Events:Webhooks:N:Url</c>).</summary>
    public string Url => _server.Url;

    /// <summary>The events received so far, in arrival order.</summary>
    public IReadOnlyList<JsonElement> Received
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
