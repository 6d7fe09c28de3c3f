namespace FtpGateway.Ftp.Protocol;

/// <summary>
/// A shell pattern for the last component of a LIST or NLST argument (what <c>mget *.txt</c> sends): <c>*</c>
/// any run of characters, <c>?</c> one character, <c>[abc]</c>, <c>[a-z]</c> and <c>[!abc]</c> (or <c>[^abc]</c>)
/// one of (or none of) a set. As in a shell, a wildcard does not match a leading dot unless the pattern starts with
/// one, and matching is case-sensitive. A <c>[</c> without its <c>]</c> is a literal character.
/// </summary>
internal sealed class Glob
{
    private readonly string _pattern;

    private Glob(string pattern) => _pattern = pattern;

    /// <summary>A pattern when <paramref name="name"/> has a wildcard; null for a plain name.</summary>
    public static Glob? For(string name) => name.AsSpan().IndexOfAny('*', '?', '[') >= 0 ? new Glob(name) : null;

    public bool IsMatch(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.StartsWith('.') && !_pattern.StartsWith('.'))
        {
            return false;
        }

        // Iterative matching with one backtrack point for the last '*': linear for the usual patterns.
        int p = 0, n = 0, starP = -1, starN = 0;
        while (n < name.Length)
        {
            if (p < _pattern.Length && _pattern[p] == '*')
            {
                (starP, starN) = (p++, n);
            }
            else if (p < _pattern.Length && MatchOne(name[n], ref p))
            {
                n++;
            }
            else if (starP >= 0)
            {
                (p, n) = (starP + 1, ++starN);
            }
            else
            {
                return false;
            }
        }

        while (p < _pattern.Length && _pattern[p] == '*')
        {
            p++;
        }

        return p == _pattern.Length;
    }

    /// <summary>Whether the pattern element at <paramref name="p"/> matches <paramref name="c"/>; moves past it if so.</summary>
    private bool MatchOne(char c, ref int p)
    {
        switch (_pattern[p])
        {
            case '?':
                p++;
                return true;
            case '[' when ClassEnd(p) is { } end:
                var matched = InClass(c, p + 1, end);
                if (matched)
                {
                    p = end + 1;
                }

                return matched;
            default:
                if (_pattern[p] != c)
                {
                    return false;
                }

                p++;
                return true;
        }
    }

    /// <summary>The index of the ']' closing the class that opens at <paramref name="open"/>; null when none does.</summary>
    private int? ClassEnd(int open)
    {
        var i = open + 1;
        if (i < _pattern.Length && _pattern[i] is '!' or '^')
        {
            i++;
        }

        if (i < _pattern.Length && _pattern[i] == ']')
        {
            i++; // a ']' right after the opening is a member
        }

        var end = _pattern.IndexOf(']', i);
        return end < 0 ? null : end;
    }

    private bool InClass(char c, int start, int end)
    {
        var negated = _pattern[start] is '!' or '^';
        var i = negated ? start + 1 : start;
        var found = false;
        for (var first = true; i < end; first = false)
        {
            if (i + 2 < end && _pattern[i + 1] == '-' && !(first && _pattern[i] == ']'))
            {
                found |= c >= _pattern[i] && c <= _pattern[i + 2];
                i += 3;
            }
            else
            {
                found |= c == _pattern[i];
                i++;
            }
        }

        return found != negated;
    }
}
