namespace FtpGateway.Storage.ObjectStore;

/// <summary>
/// A download from a store: its transport failures become storage failures (451), never data-connection ones,
/// so a store that breaks off is not mistaken for a client that did. Disposing it releases the response.
/// </summary>
public sealed class DownloadStream(Stream inner, Func<Exception, bool> isTransportFailure, IDisposable? response = null) : ReadOnlyStream
{
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception ex) when (isTransportFailure(ex))
        {
            throw new StorageException(StorageErrorKind.Unavailable, "The download from the store broke off", ex);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            try
            {
                inner.Dispose();
            }
            finally
            {
                response?.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
