namespace FtpGateway.Ftp.Transfers;

/// <summary>Thrown when an upload goes past the user's <c>MaxUploadBytes</c>: the upload fails (552) and commits nothing.</summary>
internal sealed class UploadLimitExceededException : Exception
{
    public UploadLimitExceededException()
        : this("The upload exceeds the user's size limit")
    {
    }

    public UploadLimitExceededException(string message)
        : base(message)
    {
    }

    public UploadLimitExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public long Limit { get; init; }

    /// <summary>The 552's text when it is not the user's per-file limit (maxBytesPerDay).</summary>
    public string? Reply { get; init; }
}

/// <summary>An upload's source that fails as soon as more than <paramref name="allowance"/> bytes arrive.</summary>
internal sealed class SizeLimitedStream(Stream inner, long allowance) : Storage.ReadOnlyStream
{
    private long _read;

    /// <summary>The refusal's text (null: the per-file limit's).</summary>
    public string? Reply { get; init; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        _read += n;
        return _read > allowance ? throw new UploadLimitExceededException { Limit = allowance, Reply = Reply } : n;
    }
}
