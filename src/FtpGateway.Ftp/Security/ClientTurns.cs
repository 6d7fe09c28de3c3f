using System.Net;

namespace FtpGateway.Ftp.Security;

/// <summary>
/// Asynchronous login work (requests to the HTTP authentication hook) taken in turns per client: at most one
/// request of a client (an IPv4 address, an IPv6 /64) at a time and at most <c>concurrency</c> in all; clients with
/// work waiting are served round robin, so a flood from one address waits behind itself, never in front of another
/// client. A waiting request is skipped when its turn comes if it is no longer wanted (the client was banned).
/// </summary>
internal sealed class ClientTurns(int concurrency)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Queue<Func<Task>>> _waiting = [];
    private readonly Queue<IPAddress> _ready = new();
    private readonly HashSet<IPAddress> _running = [];
    private int _inFlight;

    /// <summary>Requests waiting for their turn now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Values.Sum(q => q.Count);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in <paramref name="client"/>'s turn; <paramref name="skipped"/> when
    /// <paramref name="stillWanted"/> says no by then. Cancelled when <paramref name="ct"/> is (the session ended).
    /// </summary>
    public Task<T> RunAsync<T>(IPAddress client, Func<CancellationToken, Task<T>> work, Func<bool> stillWanted, T skipped, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(stillWanted);
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registration = ct.Register(() => result.TrySetCanceled(ct));
        _ = result.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        async Task Item()
        {
            if (result.Task.IsCompleted)
            {
                return; // the session gave up while waiting
            }

            if (!stillWanted())
            {
                result.TrySetResult(skipped);
                return;
            }

            try
            {
                result.TrySetResult(await work(ct));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                result.TrySetCanceled(ct);
            }
            catch (Exception ex)
            {
                result.TrySetException(ex);
            }
        }

        var key = Addresses.ClientKey(client);
        lock (_lock)
        {
            if (!_waiting.TryGetValue(key, out var queue))
            {
                _waiting[key] = queue = new Queue<Func<Task>>();
                if (!_running.Contains(key))
                {
                    _ready.Enqueue(key);
                }
            }

            queue.Enqueue(Item);
        }

        Pump();
        return result.Task;
    }

    /// <summary>Starts the next clients' work while there is room.</summary>
    private void Pump()
    {
        while (true)
        {
            IPAddress key;
            Func<Task> item;
            lock (_lock)
            {
                if (_inFlight >= concurrency || !_ready.TryDequeue(out key!))
                {
                    return;
                }

                var queue = _waiting[key];
                item = queue.Dequeue();
                if (queue.Count == 0)
                {
                    _waiting.Remove(key);
                }

                _running.Add(key);
                _inFlight++;
            }

            _ = RunAsync(key, item);
        }
    }

    private async Task RunAsync(IPAddress key, Func<Task> item)
    {
        try
        {
            await item();
        }
        finally
        {
            lock (_lock)
            {
                _running.Remove(key);
                _inFlight--;
                if (_waiting.ContainsKey(key))
                {
                    _ready.Enqueue(key); // its next request, behind every other client waiting now
                }
            }

            Pump();
        }
    }
}
