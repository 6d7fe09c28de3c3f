using System.Net;

namespace FtpGateway.TestSupport;

/// <summary>
/// A real HTTP server on a free loopback port (HttpListener), for the tests of what the gateway calls over HTTP
/// (the authentication hook, webhooks). Each request is handled in its own task by <c>handle</c>; a response the
/// client gave up on, or one still open when the server stops, is dropped quietly.
/// </summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<HttpListenerContext, Task> _handle;
    private readonly Task _serving;

    public LoopbackHttpServer(string path, Func<HttpListenerContext, Task> handle)
    {
        _handle = handle;
        Url = $"http://127.0.0.1:{FreePorts.One()}/{path.Trim('/')}/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _serving = ServeAsync();
    }

    public string Url { get; }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            _ = AnswerAsync(context);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            await _handle(context);
            context.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or IOException)
        {
            // The client gave up on a slow answer, or the test is over.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving;
    }
}
