using FtpGateway.Storage;

namespace FtpGateway.TestSupport;

/// <summary>
/// Wraps a real provider and fails uploads or listings on demand, the way a store that goes away mid-transfer
/// does. Everything else passes through. Used only to inject faults; a view for a user's root shares the faults.
/// </summary>
public sealed class FaultyStorage(IStorageProvider inner) : IStorageProvider
{
    private Faults _faults = new();

    /// <summary>When set, a listing yields this many entries and then fails as a store that went away.</summary>
    public int? FailListingAfter { get => _faults.FailListingAfter; set => _faults.FailListingAfter = value; }

    /// <summary>When set, an upload reads this many bytes and then fails with the given kind.</summary>
    public (long AfterBytes, StorageErrorKind Kind)? FailUploads { get => _faults.FailUploads; set => _faults.FailUploads = value; }

    /// <summary>When set, an upload stops reading after its first read until this completes (a slow store: backpressure).</summary>
    public TaskCompletionSource? PauseAfterFirstRead { get => _faults.PauseAfterFirstRead; set => _faults.PauseAfterFirstRead = value; }

    /// <summary>Set when an upload has paused (see <see cref="PauseAfterFirstRead"/>).</summary>
    public TaskCompletionSource Paused => _faults.Paused;

    /// <summary>Uploads wait on this before committing, once they have read their data.</summary>
    public TaskCompletionSource? HoldCommit { get => _faults.HoldCommit; set => _faults.HoldCommit = value; }

    public TaskCompletionSource DataReceived => _faults.DataReceived;

    /// <summary>Set when an upload waiting in <see cref="HoldCommit"/> was cancelled: it will never commit.</summary>
    public TaskCompletionSource CommitAbandoned => _faults.CommitAbandoned;

    public string Name => inner.Name;

    public StorageCapabilities Capabilities => inner.Capabilities;

    public IReadOnlyList<string> HashAlgorithms => inner.HashAlgorithms;

    public IStorageProvider ForRoot(StoragePath root) => new FaultyStorage(inner.ForRoot(root)) { _faults = _faults };

    public async ValueTask<StorageEntry> UploadAsync(UploadRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (FailUploads is { } fail)
        {
            var buffer = new byte[8192];
            long total = 0;
            while (total < fail.AfterBytes)
            {
                var n = await request.Source.ReadAsync(buffer, cancellationToken);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            throw new StorageException(fail.Kind, "injected storage failure with backend detail s3://secret-bucket/key");
        }

        var hold = HoldCommit;
        var source = PauseAfterFirstRead is { } gate ? new PausingStream(request.Source, gate, Paused) : request.Source;
        var wrapped = request with
        {
            Source = source,
            BeforeCommit = async ct =>
            {
                DataReceived.TrySetResult();
                if (hold is not null)
                {
                    try
                    {
                        await hold.Task.WaitAsync(ct);
                    }
                    catch (OperationCanceledException)
                    {
                        CommitAbandoned.TrySetResult();
                        throw;
                    }
                }

                if (request.BeforeCommit is not null)
                {
                    await request.BeforeCommit(ct);
                }
            },
        };
        return await inner.UploadAsync(wrapped, cancellationToken);
    }

    private sealed class PausingStream(Stream inner, TaskCompletionSource gate, TaskCompletionSource paused) : ReadOnlyStream
    {
        private bool _paused;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            if (!_paused)
            {
                _paused = true;
                paused.TrySetResult();
                await gate.Task.WaitAsync(cancellationToken);
            }

            return n;
        }
    }

    public ValueTask<StorageEntry?> GetEntryAsync(StoragePath path, CancellationToken cancellationToken) => inner.GetEntryAsync(path, cancellationToken);

    public ValueTask CheckUploadTargetAsync(StoragePath path, CancellationToken cancellationToken) => inner.CheckUploadTargetAsync(path, cancellationToken);

    /// <summary>Listings asked of the storage so far.</summary>
    public int Listings => Volatile.Read(ref _faults.Listings);

    public async IAsyncEnumerable<StorageEntry> ListAsync(StoragePath directory, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _faults.Listings);
        var count = 0;
        await foreach (var entry in inner.ListAsync(directory, cancellationToken))
        {
            if (count++ == FailListingAfter)
            {
                throw new StorageException(StorageErrorKind.Unavailable, "injected listing failure with backend detail s3://secret-bucket/");
            }

            yield return entry;
        }
    }

    public ValueTask<Stream> OpenReadAsync(StoragePath path, long offset, CancellationToken cancellationToken) => inner.OpenReadAsync(path, offset, cancellationToken);

    public ValueTask DeleteFileAsync(StoragePath path, CancellationToken cancellationToken) => inner.DeleteFileAsync(path, cancellationToken);

    public ValueTask CreateDirectoryAsync(StoragePath path, CancellationToken cancellationToken) => inner.CreateDirectoryAsync(path, cancellationToken);

    public ValueTask DeleteDirectoryAsync(StoragePath path, CancellationToken cancellationToken) => inner.DeleteDirectoryAsync(path, cancellationToken);

    public ValueTask RenameAsync(StoragePath source, StoragePath target, CancellationToken cancellationToken) => inner.RenameAsync(source, target, cancellationToken);

    public ValueTask SetModificationTimeAsync(StoragePath path, DateTimeOffset time, CancellationToken cancellationToken) => inner.SetModificationTimeAsync(path, time, cancellationToken);

    public ValueTask<byte[]> GetHashAsync(StoragePath path, string algorithm, CancellationToken cancellationToken) => inner.GetHashAsync(path, algorithm, cancellationToken);

    public ValueTask ProbeAsync(CancellationToken cancellationToken) => inner.ProbeAsync(cancellationToken);

    private sealed class Faults
    {
#pragma warning disable SA1401, CA1051 // a counter updated with Interlocked
        public int Listings;
#pragma warning restore SA1401, CA1051

        public int? FailListingAfter { get; set; }

        public (long AfterBytes, StorageErrorKind Kind)? FailUploads { get; set; }

        public TaskCompletionSource? PauseAfterFirstRead { get; set; }

        public TaskCompletionSource Paused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource? HoldCommit { get; set; }

        public TaskCompletionSource DataReceived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource CommitAbandoned { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
