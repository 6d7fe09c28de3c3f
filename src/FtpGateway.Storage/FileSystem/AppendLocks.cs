using Microsoft.Win32.SafeHandles;

namespace FtpGateway.Storage.FileSystem;

/// <summary>
/// Serialises appends to one file: a gate per file in this process, and <c>flock</c> for other processes (other
/// replicas on a shared volume). The lock is polled, so a long append elsewhere never holds a thread here.
/// </summary>
internal sealed class AppendLocks(TimeProvider time)
{
    private readonly Dictionary<string, (SemaphoreSlim Gate, int Users)> _gates = new(StringComparer.Ordinal);

    /// <summary>Waits until this caller may append to <paramref name="file"/> (identified by <paramref name="fileId"/>).</summary>
    public async Task<IDisposable> AcquireAsync(string fileId, SafeFileHandle file, CancellationToken cancellationToken)
    {
        SemaphoreSlim gate;
        lock (_gates)
        {
            var (existing, users) = _gates.GetValueOrDefault(fileId);
            gate = existing ?? new SemaphoreSlim(1, 1);
            _gates[fileId] = (gate, users + 1);
        }

        var held = false;
        try
        {
            await gate.WaitAsync(cancellationToken);
            held = true;
            while (Libc.Flock(file, Libc.LockEx | Libc.LockNb) != 0)
            {
                if (Libc.Errno is not (Libc.EAGAIN or Libc.EINTR))
                {
                    throw FileSystemErrors.For(Libc.Errno, StoragePath.Root, "locking a file for an append");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
            }

            return new Lease(this, fileId, gate, file);
        }
        catch
        {
            Leave(fileId, gate, held);
            throw;
        }
    }

    private void Leave(string fileId, SemaphoreSlim gate, bool held)
    {
        if (held)
        {
            gate.Release();
        }

        lock (_gates)
        {
            var users = _gates[fileId].Users - 1;
            if (users == 0)
            {
                _gates.Remove(fileId);
                gate.Dispose();
            }
            else
            {
                _gates[fileId] = (gate, users);
            }
        }
    }

    private sealed class Lease(AppendLocks owner, string fileId, SemaphoreSlim gate, SafeFileHandle file) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Libc.Flock(file, Libc.LockUn);
                owner.Leave(fileId, gate, held: true);
            }
        }
    }
}
