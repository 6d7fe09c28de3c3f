using System.Net;

namespace FtpGateway.Ftp.Security;

/// <summary>
/// Runs password verifications (each a deliberate key derivation) on a few dedicated threads, never on the
/// thread pool, so a flood of wrong passwords cannot starve the sessions' I/O. Waiting checks are served in
/// turn per client (<see cref="FairQueue{T}"/>): a flood from one client delays that client's logins, while every
/// other client's check waits for at most one check per client with checks waiting.
/// </summary>
internal sealed class PasswordChecks : IDisposable
{
    private readonly FairQueue<Check> _queue = new(int.MaxValue);
    private readonly SemaphoreSlim _ready = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread[] _threads;
    private int _disposed;

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
    public int Waiting => _queue.Waiting;

    /// <summary>
    /// Runs <paramref name="verify"/> on a check thread in <paramref name="client"/>'s turn. When
    /// <paramref name="stillWanted"/> says no by then (the address was banned meanwhile), the check is skipped
    /// and the result is <paramref name="skipped"/>.
    /// </summary>
    public Task<T> RunAsync<T>(IPAddress client, Func<T> verify, Func<bool> stillWanted, T skipped, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (Volatile.Read(ref _disposed) == 1)
        {
            return Task.FromCanceled<T>(new CancellationToken(canceled: true));
        }

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

        // A session that ends while its check waits (the client left, the server stops) leaves the queue at once.
        var handle = _queue.Add(client, check);
        var registration = ct.Register(() =>
        {
            _queue.Remove(handle);
            result.TrySetCanceled(ct);
        });
        _ = result.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _ready.Release();
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

            if (_queue.TryTake(out var check, out var client))
            {
                try
                {
                    check.Run();
                }
                finally
                {
                    _queue.Done(client);
                }
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stopping.Cancel();
        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }

        while (_queue.TryTake(out var check, out var client))
        {
            check.Abandon();
            _queue.Done(client);
        }
    }

    private sealed record Check(Action Run, Action Abandon);
}
