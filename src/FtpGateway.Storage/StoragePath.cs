using System.Text;

namespace FtpGateway.Storage;

/// <summary>
/// A normalised, absolute, jailed path inside a storage namespace: "/" or "/a/b".
/// Every path a client sends goes through <see cref="TryResolve"/>; the result can never name anything
/// above the root, so joining it under a user's root can never escape that root.
/// </summary>
public readonly record struct StoragePath
{
    private readonly string? _value;

    private StoragePath(string value) => _value = value;

    public static StoragePath Root { get; } = new("/");

    /// <summary>"/" or "/a/b" (no trailing slash, no empty, "." or ".." segment).</summary>
    public string Value => _value ?? "/";

    public bool IsRoot => Value.Length == 1;

    /// <summary>The last segment; empty for the root.</summary>
    public string Name => IsRoot ? string.Empty : Value[(Value.LastIndexOf('/') + 1)..];

    public StoragePath Parent
    {
        get
        {
            if (IsRoot)
            {
                return this;
            }

            var cut = Value.LastIndexOf('/');
            return cut == 0 ? Root : new StoragePath(Value[..cut]);
        }
    }

    public IEnumerable<string> Segments => IsRoot ? [] : Value[1..].Split('/');

    /// <summary>
    /// Resolves what a client typed against a working directory. Both '/' and '\' separate segments;
    /// "." is dropped and ".." climbs, but never above the root (as chroot does). A NUL or other control
    /// character makes the path invalid: no file system or object store treats them sanely.
    /// </summary>
    public static bool TryResolve(StoragePath workingDirectory, string input, out StoragePath result)
    {
        ArgumentNullException.ThrowIfNull(input);
        result = Root;
        foreach (var c in input)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        var absolute = input.Length > 0 && (input[0] == '/' || input[0] == '\\');
        var stack = new List<string>();
        if (!absolute)
        {
            stack.AddRange(workingDirectory.Segments);
        }

        foreach (var raw in input.Split('/', '\\'))
        {
            switch (raw)
            {
                case "":
                case ".":
                    break;
                case "..":
                    if (stack.Count > 0)
                    {
                        stack.RemoveAt(stack.Count - 1);
                    }

                    break;
                default:
                    // Trailing dots and spaces are legal on POSIX and on object stores; they are kept.
                    stack.Add(raw);
                    break;
            }
        }

        result = FromSegments(stack);
        return true;
    }

    /// <summary>Parses an already-normal path (throws if it is not absolute or contains control characters).</summary>
    public static StoragePath Parse(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path[0] != '/' || !TryResolve(Root, path, out var result))
        {
            throw new ArgumentException($"Not an absolute storage path: '{path}'", nameof(path));
        }

        return result;
    }

    private static StoragePath FromSegments(List<string> segments)
    {
        if (segments.Count == 0)
        {
            return Root;
        }

        var sb = new StringBuilder();
        foreach (var s in segments)
        {
            sb.Append('/').Append(s);
        }

        return new StoragePath(sb.ToString());
    }

    /// <summary>Appends a single name (no separators allowed).</summary>
    public StoragePath Child(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Not a single path segment: '{name}'", nameof(name));
        }

        return ChildUnchecked(name);
    }

    /// <summary>Appends a name already known to be a single segment (<see cref="StorageNames.TryChild"/>).</summary>
    internal StoragePath ChildUnchecked(string name) => new(IsRoot ? "/" + name : Value + "/" + name);

    /// <summary>Places <paramref name="inner"/> under this path: how a user's virtual path maps into the storage.</summary>
    public StoragePath Append(StoragePath inner) =>
        inner.IsRoot ? this : IsRoot ? inner : new StoragePath(Value + inner.Value);

    /// <summary>True when <paramref name="other"/> is this path or lies below it.</summary>
    public bool Contains(StoragePath other) =>
        IsRoot || other.Value == Value || other.Value.StartsWith(Value + "/", StringComparison.Ordinal);

    public override string ToString() => Value;
}
