using System.Diagnostics;
using System.Runtime.CompilerServices;
using FtpGateway.Storage;

namespace FtpGateway.Ftp.Telemetry;

/// <summary>
/// Wraps the configured provider: every storage operation becomes a child span of the command or transfer that
/// caused it, and its duration is recorded by provider, operation and outcome. The cloud SDKs' own spans
/// (Azure's natively) nest underneath.
/// </summary>
internal sealed class InstrumentedStorageProvider(IStorageProvider inner, FtpTelemetry telemetry, string target = StorageTargets.Default, TimeProvider? time = null) : IStorageProvider
{
    public string Name => inner.Name;

    public string? Locate(StoragePath path) => inner.Locate(path);

    public string Describe() => inner.Describe();

    /// <summary>The storage target's name (<c>default</c>: the top-level Storage), on every span and measurement.</summary>
    public string Target => target;

    public StorageCapabilities Capabilities => inner.Capabilities;

    public IReadOnlyList<string> HashAlgorithms => inner.HashAlgorithms;

    public IStorageProvider ForRoot(StoragePath root) => new InstrumentedStorageProvider(inner.ForRoot(root), telemetry, target, time);

    public ValueTask<StorageEntry?> GetEntryAsync(StoragePath path, CancellationToken cancellationToken) =>
        Run("stat", path, () => inner.GetEntryAsync(path, cancellationToken));

    public async IAsyncEnumerable<StorageEntry> ListAsync(StoragePath directory, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var operation = new Operation(this, "list", directory);
        await using var items = inner.ListAsync(directory, cancellationToken).GetAsyncEnumerator(cancellationToken);
        long count = 0;
        while (true)
        {
            bool more;
            try
            {
                more = await items.MoveNextAsync();
            }
            catch (Exception ex)
            {
                operation.Fail(ex);
                throw;
            }

            if (!more)
            {
                break;
            }

            count++;
            yield return items.Current;
        }

        operation.Activity?.SetTag("storage.entries", count);
    }

    public ValueTask<Stream> OpenReadAsync(StoragePath path, long offset, CancellationToken cancellationToken) =>
        Run("open_read", path, () => inner.OpenReadAsync(path, offset, cancellationToken));

    public ValueTask<StorageEntry> UploadAsync(UploadRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Run("upload", request.Path, () => inner.UploadAsync(request, cancellationToken));
    }

    public ValueTask CheckUploadTargetAsync(StoragePath path, CancellationToken cancellationToken) =>
        Run("check_upload", path, () => inner.CheckUploadTargetAsync(path, cancellationToken));

    public ValueTask DeleteFileAsync(StoragePath path, CancellationToken cancellationToken) =>
        Run("delete", path, () => inner.DeleteFileAsync(path, cancellationToken));

    public ValueTask CreateDirectoryAsync(StoragePath path, CancellationToken cancellationToken) =>
        Run("create_directory", path, () => inner.CreateDirectoryAsync(path, cancellationToken));

    public ValueTask DeleteDirectoryAsync(StoragePath path, CancellationToken cancellationToken) =>
        Run("delete_directory", path, () => inner.DeleteDirectoryAsync(path, cancellationToken));

    public ValueTask RenameAsync(StoragePath source, StoragePath target, CancellationToken cancellationToken) =>
        Run("rename", source, () => inner.RenameAsync(source, target, cancellationToken));

    public ValueTask SetModificationTimeAsync(StoragePath path, DateTimeOffset time, CancellationToken cancellationToken) =>
        Run("set_modification_time", path, () => inner.SetModificationTimeAsync(path, time, cancellationToken));

    public ValueTask<byte[]> GetHashAsync(StoragePath path, string algorithm, CancellationToken cancellationToken) =>
        Run("hash", path, () => inner.GetHashAsync(path, algorithm, cancellationToken));

    public ValueTask ProbeAsync(CancellationToken cancellationToken) =>
        Run("probe", StoragePath.Root, () => inner.ProbeAsync(cancellationToken));

    private async ValueTask<T> Run<T>(string name, StoragePath path, Func<ValueTask<T>> action)
    {
        using var operation = new Operation(this, name, path);
        try
        {
            return await action();
        }
        catch (Exception ex)
        {
            operation.Fail(ex);
            throw;
        }
    }

    private async ValueTask Run(string name, StoragePath path, Func<ValueTask> action)
    {
        using var operation = new Operation(this, name, path);
        try
        {
            await action();
        }
        catch (Exception ex)
        {
            operation.Fail(ex);
            throw;
        }
    }

    /// <summary>One storage operation: a client span and a duration measurement.</summary>
    private sealed class Operation : IDisposable
    {
        private readonly InstrumentedStorageProvider _owner;
        private readonly string _name;
        private readonly long _started;
        private string _outcome = "success";

        public Operation(InstrumentedStorageProvider owner, string name, StoragePath path)
        {
            _owner = owner;
            _name = name;
            _started = owner.Clock.GetTimestamp();
            Activity = FtpTelemetry.Source.StartActivity("storage " + name, ActivityKind.Client);
            Activity?.SetTag("storage.provider", owner.Name);
            Activity?.SetTag("storage.target", owner.Target);
            Activity?.SetTag("storage.operation", name);
            Activity?.SetTag("storage.path", path.Value);
        }

        public Activity? Activity { get; }

        /// <summary>
        /// The outcome is the store's error kind, or what the client did: its upload went past its limit (SizeLimit),
        /// its data connection broke (ClientData), it was cut short (cancelled). Only the store's own failures may
        /// count for the store-failure alert: a client's quota or connection is not the store failing.
        /// </summary>
        public void Fail(Exception ex)
        {
            _outcome = ex switch
            {
                StorageException storage => storage.Kind.ToString(),
                Transfers.UploadLimitExceededException => "SizeLimit",
                Transfers.DataConnectionException => "ClientData",
                OperationCanceledException => "cancelled",
                _ => "error",
            };
            var type = ex is StorageException s ? s.Kind.ToString() : ex.GetType().Name;
            Activity?.SetStatus(ActivityStatusCode.Error);
            Activity?.SetTag("error.type", type);
        }

        public void Dispose()
        {
            _owner.Record(_name, _outcome, _owner.Clock.GetElapsedTime(_started).TotalSeconds);
            Activity?.Dispose();
        }
    }

    private TimeProvider Clock { get; } = time ?? TimeProvider.System;

    private void Record(string operation, string outcome, double seconds) =>
        telemetry.StorageDuration.Record(
            seconds,
            new KeyValuePair<string, object?>("storage.provider", Name),
            new KeyValuePair<string, object?>("storage.target", target),
            new KeyValuePair<string, object?>("storage.operation", operation),
            new KeyValuePair<string, object?>("outcome", outcome));
}
