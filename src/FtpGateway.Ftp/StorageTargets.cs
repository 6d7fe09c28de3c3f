using FtpGateway.Storage;

namespace FtpGateway.Ftp;

/// <summary>
/// The storages users write to: the top-level <c>Storage</c> (the target named <see cref="Default"/>) and the
/// named ones of <c>Storage:Targets:&lt;name&gt;</c>, one customer's bucket, container or account each.
/// </summary>
internal sealed class StorageTargets
{
    public const string Default = "default";

    public StorageTargets(IStorageProvider defaultStorage, IReadOnlyDictionary<string, IStorageProvider>? named = null)
    {
        ArgumentNullException.ThrowIfNull(defaultStorage);
        if (named?.ContainsKey(Default) == true)
        {
            throw new InvalidOperationException($"Storage:Targets:{Default} cannot be configured: '{Default}' is the name of the top-level Storage");
        }

        All = new Dictionary<string, IStorageProvider>(named ?? new Dictionary<string, IStorageProvider>(), StringComparer.Ordinal)
        {
            [Default] = defaultStorage,
        };
    }

    /// <summary>Every target by name, <see cref="Default"/> included.</summary>
    public IReadOnlyDictionary<string, IStorageProvider> All { get; }

    /// <summary>The target named <paramref name="name"/> (null or empty: the default); null when there is none.</summary>
    public IStorageProvider? Find(string? name) => All.GetValueOrDefault(string.IsNullOrEmpty(name) ? Default : name);
}
