using FtpGateway.Ftp.Protocol;

namespace FtpGateway.Ftp.Events;

/// <summary>
/// <c>Events:IgnorePaths</c>: paths (as users see them) kept out of events and per-user upload counts — the marker
/// files devices leave (Dahua's <c>DVRWorkDirectory</c>), which every downstream consumer would otherwise have to
/// skip. A pattern's segments are shell patterns (<see cref="Glob"/>: <c>*</c>, <c>?</c>, <c>[a-z]</c>) and
/// <c>**</c> stands for any number of segments: <c>**/DVRWorkDirectory</c> anywhere, <c>/cam*/tmp/*</c> under
/// those folders. Without a leading <c>/</c> or <c>**</c> a pattern matches at any depth, as <c>**/</c> before it.
/// </summary>
internal sealed class PathPatterns
{
    private readonly List<Func<string, bool>?[]> _patterns; // null: **

    private PathPatterns(List<Func<string, bool>?[]> patterns) => _patterns = patterns;

    public static PathPatterns None { get; } = new([]);

    public bool IsEmpty => _patterns.Count == 0;

    /// <summary>The patterns, or the invalid ones named by their key.</summary>
    public static PathPatterns Parse(IReadOnlyList<string> patterns, string key, List<string> errors)
    {
        var parsed = new List<Func<string, bool>?[]>();
        for (var i = 0; i < patterns.Count; i++)
        {
            var text = patterns[i]?.Trim() ?? string.Empty;
            if (text.Length == 0)
            {
                errors.Add($"{key}:{i} is empty (it would match every path)");
                continue;
            }

            var anchored = text.StartsWith('/');
            var segments = text.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();
            if (!anchored && segments.FirstOrDefault() != "**")
            {
                segments.Insert(0, "**");
            }

            var globs = segments.Select(Segment).ToArray();
            if (segments.Count == 0 || segments.Where((s, j) => s != "**" && globs[j] is null).Any())
            {
                errors.Add($"{key}:{i} '{patterns[i]}' is not a path pattern (segments of *, ?, [a-z] and **)");
                continue;
            }

            parsed.Add(globs);
        }

        return new PathPatterns(parsed);
    }

    /// <summary>One segment: ** (null), a shell pattern, or a name matched as it is.</summary>
    private static Func<string, bool>? Segment(string segment) =>
        segment == "**" ? null
        : !Glob.IsPattern(segment) ? name => name == segment
        : Glob.For(segment) is { } glob ? glob.IsMatch
        : null;

    /// <summary>Whether <paramref name="path"/> (<c>/a/b/c</c>) matches one of the patterns.</summary>
    public bool Matches(string? path)
    {
        if (_patterns.Count == 0 || path is null || !path.StartsWith('/'))
        {
            return false;
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return _patterns.Any(p => Match(p, 0, segments, 0));
    }

    private static bool Match(Func<string, bool>?[] pattern, int p, string[] path, int s)
    {
        while (p < pattern.Length)
        {
            if (pattern[p] is null)
            {
                // **: any number of segments, then the rest of the pattern
                for (var skip = s; skip <= path.Length; skip++)
                {
                    if (Match(pattern, p + 1, path, skip))
                    {
                        return true;
                    }
                }

                return false;
            }

            if (s >= path.Length || !pattern[p]!(path[s]))
            {
                return false;
            }

            (p, s) = (p + 1, s + 1);
        }

        return s == path.Length;
    }
}
