using System.Net;

namespace FtpGateway.Ftp.Security;

/// <summary>
/// Runs password verifications (each a deliberate key derivation) on a few dedicated threads, never on the
/// thread pool, so a flood of wrong passwords cannot starve the sessions' I/O. Waiting checks are served in
/// turn per client (an IPv4 address, an IPv6 /64): a flood from one client delays that client's logins, while
/// every other client's check waits for at most one check per client with checks waiting.
/// </summary>
public sealed class PasswordChecks : IDisposable
{
    private readonly Dictionary<IPAddress, Queue<Check>> _waiting = [];
    private readonly Queue<IPAddress> _turns = new();
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _ready = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread[] _threads;
    private bool _disposed;

    public PasswordChecks(int concurrency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        _threads = Enumerable.Range(0, concurrency)
            .Select(i => new Thread(Work) { IsBackground = true, Name = $"FtpGateway password check {i + 1}" })
            .ToArray();
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    /// <summary>Checks waiting for a thread now.</summary>
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
    /// Runs <paramref name="verify"/> on a check thread in <paramref name="client"/>'s turn. When
    /// <paramref name="stillWanted"/> says no by then (the address was banned meanwhile), the check is skipped
    /// and the result is <paramref name="skipped"/>.
    /// </summary>
    public Task<T> RunAsync<T>(IPAddress client, Func<T> verify, Func<bool> stillWanted, T skipped, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var check = new Check(
            () =>
            {
                if (ct.IsCancellationRequested)
                {
                    result.TrySetCanceled(ct);
                    return;
                }

                try
                {
                    result.TrySetResult(stillWanted() ? verify() : skipped);
                }
                catch (Exception ex)
                {
                    result.TrySetException(ex);
                }
            },
            () => result.TrySetCanceled());

        // A session that ends while its check waits (the client left, the server stops) stops waiting at once;
        // the check itself is then skipped when its turn comes.
        var registration = ct.Register(() => result.TrySetCanceled(ct));
        _ = result.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        client = Addresses.ClientKey(client); // turns per client as bans count them (IPv6 per /64)
        lock (_lock)
        {
            if (_disposed)
            {
                return Task.FromCanceled<T>(new CancellationToken(canceled: true));
            }

            if (!_waiting.TryGetValue(client, out var queue))
            {
                _waiting[client] = queue = new Queue<Check>();
                _turns.Enqueue(client);
            }

            queue.Enqueue(check);
            _ready.Release();
        }

        return result.Task;
    }

    private void Work()
    {
        while (true)
        {
            try
            {
                _ready.Wait(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Take()?.Run();
        }
    }

    /// <summary>The next address's oldest check; the address goes to the back of the line if it has more.</summary>
    private Check? Take()
    {
        lock (_lock)
        {
            if (!_turns.TryDequeue(out var client))
            {
                return null;
            }

            var queue = _waiting[client];
            var check = queue.Dequeue();
            if (queue.Count > 0)
            {
                _turns.Enqueue(client);
            }
            else
            {
                _waiting.Remove(client);
            }

            return check;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _stopping.Cancel();
        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }

        lock (_lock)
        {
            foreach (var check in _waiting.Values.SelectMany(q => q))
            {
                check.Abandon();
            }

            _waiting.Clear();
            _turns.Clear();
        }

    }

    private sealed record Check(Action Run, Action Abandon);
}
