using System.Net;

namespace FtpGateway.Ftp.Security;

/// <summary>
/// Asynchronous login work (requests to the HTTP authentication hook) taken in turns per client
/// (<see cref="FairQueue{T}"/>): at most <c>perClient</c> requests of one client at a time and <c>concurrency</c>
/// in all. A waiting request is skipped when its turn comes if it is no longer wanted (the client was banned), and
/// leaves the queue at once when its session ends.
/// </summary>
internal sealed class ClientTurns(int concurrency, int perClient)
{
    private readonly FairQueue<Func<Task>> _queue = new(perClient);
    private readonly Lock _lock = new();
    private int _running;

    /// <summary>Requests waiting for their turn now.</summary>
    public int Waiting => _queue.Waiting;

    /// <summary>
    /// Runs <paramref name="work"/> in <paramref name="client"/>'s turn; <paramref name="skipped"/> when
    /// <paramref name="stillWanted"/> says no by then. Cancelled when <paramref name="ct"/> is (the session ended).
    /// </summary>
    public Task<T> RunAsync<T>(IPAddress client, Func<CancellationToken, Task<T>> work, Func<bool> stillWanted, T skipped, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(stillWanted);
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task Item()
        {
            if (ct.IsCancellationRequested)
            {
                result.TrySetCanceled(ct);
                return;
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

        var handle = _queue.Add(client, Item);
        var registration = ct.Register(() =>
        {
            _queue.Remove(handle); // an abandoned request leaves the queue (and its password with it) at once
            result.TrySetCanceled(ct);
        });
        _ = result.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Pump();
        return result.Task;
    }

    /// <summary>
    /// Starts waiting requests while there is room, in a loop: work that finishes at once (skipped, cancelled) is
    /// accounted here, never by a nested call, so however many are skipped in a row the stack does not grow.
    /// </summary>
    private void Pump()
    {
        while (true)
        {
            lock (_lock)
            {
                if (_running >= concurrency)
                {
                    return;
                }

                _running++;
            }

            if (!_queue.TryTake(out var item, out var client))
            {
                lock (_lock)
                {
                    _running--;
                }

                return;
            }

            var running = item();
            if (running.IsCompleted)
            {
                Finished(client);
                continue;
            }

            _ = running.ContinueWith(
                _ =>
                {
                    Finished(client);
                    Pump();
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private void Finished(IPAddress client)
    {
        _queue.Done(client);
        lock (_lock)
        {
            _running--;
        }
    }
}
