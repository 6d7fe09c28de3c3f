namespace FtpGateway.Storage;

/// <summary>
/// How an upload combines with what exists at its path — the same rules on every provider: STOU never
/// replaces, APPE keeps the whole existing file, REST n + STOR keeps its first n bytes (and n may not lie
/// beyond its end), STOR keeps nothing.
/// </summary>
public static class UploadRules
{
    /// <summary>
    /// Bytes of the existing file (<paramref name="existingSize"/>, null when there is none) kept in front of
    /// the new data; throws AlreadyExists or InvalidRange when the upload may not go ahead.
    /// </summary>
    public static long KeptBytes(UploadRequest request, long? existingSize)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Mode switch
        {
            UploadMode.CreateNew when existingSize is not null => throw new StorageException(StorageErrorKind.AlreadyExists, $"'{request.Path}' exists"),
            UploadMode.Append => existingSize ?? 0,
            UploadMode.Resume when request.Offset > 0 => existingSize is { } size && request.Offset <= size
                ? request.Offset
                : throw new StorageException(StorageErrorKind.InvalidRange, $"Offset {request.Offset} is beyond the end of '{request.Path}'"),
            _ => 0,
        };
    }

    /// <summary>True when the upload depends on what exists at its path (so the provider must look first).</summary>
    public static bool NeedsExisting(UploadRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Mode is UploadMode.Append or UploadMode.CreateNew || (request.Mode == UploadMode.Resume && request.Offset > 0);
    }
}
