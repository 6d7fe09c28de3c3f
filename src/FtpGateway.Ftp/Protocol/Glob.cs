namespace FtpGateway.Ftp.Protocol;

/// <summary>
/// A shell pattern for the last component of a LIST or NLST argument (what <c>mget *.txt</c> sends): <c>*</c>
/// any run of characters, <c>?</c> one character, <c>[abc]</c>, <c>[a-z]</c> and <c>[!abc]</c> (or <c>[^abc]</c>)
/// one of (or none of) a set. As in a shell, a wildcard does not match a leading dot unless the pattern starts with
/// one, and matching is case-sensitive. A <c>[</c> without its <c>]</c> is a literal character.
/// A pattern is compiled once into at most <see cref="MaxElements"/> elements (a class is one) of at most
/// <see cref="MaxLength"/> characters, and a name is matched in one pass, all positions of the pattern at once (a
/// bit each): time linear in the name, whatever the pattern, so a listing filtered by a pattern costs a listing.
/// </summary>
internal sealed class Glob
{
    /// <summary>The longest pattern accepted, in characters.</summary>
    public const int MaxLength = 255;

    /// <summary>The most elements (characters, <c>?</c>, classes; runs of <c>*</c> count once) a pattern may have.</summary>
    public const int MaxElements = 63;

    private readonly Element[] _elements;
    private readonly ulong _stars;           // bit i: element i is '*'
    private readonly ulong[] _ascii = new ulong[128]; // bit i: element i matches that ASCII character
    private readonly bool _leadingDot;

    private Glob(List<Element> elements, bool leadingDot)
    {
        _elements = [.. elements];
        _leadingDot = leadingDot;
        for (var i = 0; i < _elements.Length; i++)
        {
            if (_elements[i].Star)
            {
                _stars |= 1UL << i;
            }
        }

        for (var c = 0; c < 128; c++)
        {
            _ascii[c] = Matching((char)c);
        }
    }

    /// <summary>True when <paramref name="name"/> has a wildcard.</summary>
    public static bool IsPattern(string name) => name.AsSpan().IndexOfAny('*', '?', '[') >= 0;

    /// <summary>A pattern when <paramref name="name"/> has a wildcard; null for a plain name (and for one beyond the limits).</summary>
    public static Glob? For(string name) => TryCreate(name, out var glob) ? glob : null;

    /// <summary>
    /// The pattern of <paramref name="name"/>; false when it has no wildcard or goes beyond
    /// <see cref="MaxLength"/> or <see cref="MaxElements"/> (<paramref name="glob"/> is then null).
    /// </summary>
    public static bool TryCreate(string name, out Glob? glob)
    {
        ArgumentNullException.ThrowIfNull(name);
        glob = null;
        if (!IsPattern(name) || name.Length > MaxLength)
        {
            return false;
        }

        var elements = new List<Element>();
        for (var p = 0; p < name.Length;)
        {
            if (elements.Count > MaxElements)
            {
                return false;
            }

            switch (name[p])
            {
                case '*':
                    if (elements.Count == 0 || !elements[^1].Star)
                    {
                        elements.Add(Element.AnyRun);
                    }

                    p++;
                    break;
                case '?':
                    elements.Add(Element.AnyOne);
                    p++;
                    break;
                case '[' when ClassEnd(name, p) is { } end:
                    elements.Add(Element.Class(name, p + 1, end));
                    p = end + 1;
                    break;
                default:
                    elements.Add(Element.Literal(name[p]));
                    p++;
                    break;
            }
        }

        if (elements.Count > MaxElements)
        {
            return false;
        }

        glob = new Glob(elements, name.StartsWith('.'));
        return true;
    }

    public bool IsMatch(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.StartsWith('.') && !_leadingDot)
        {
            return false;
        }

        // The set of pattern positions the name so far can have reached (bit i: the first i elements matched).
        var reached = Closure(1UL);
        foreach (var c in name)
        {
            var matching = c < 128 ? _ascii[c] : Matching(c);
            reached = Closure(((reached & matching) << 1) | (reached & _stars));
            if (reached == 0)
            {
                return false;
            }
        }

        return (reached & (1UL << _elements.Length)) != 0;
    }

    /// <summary>A '*' matches nothing too: reaching it reaches the position after it.</summary>
    private ulong Closure(ulong reached) => reached | ((reached & _stars) << 1);

    /// <summary>The elements (not stars) that match <paramref name="c"/>, as bits.</summary>
    private ulong Matching(char c)
    {
        ulong bits = 0;
        for (var i = 0; i < _elements.Length; i++)
        {
            if (!_elements[i].Star && _elements[i].Matches(c))
            {
                bits |= 1UL << i;
            }
        }

        return bits;
    }

    /// <summary>The index of the ']' closing the class that opens at <paramref name="open"/>; null when none does.</summary>
    private static int? ClassEnd(string pattern, int open)
    {
        var i = open + 1;
        if (i < pattern.Length && pattern[i] is '!' or '^')
        {
            i++;
        }

        if (i < pattern.Length && pattern[i] == ']')
        {
            i++; // a ']' right after the opening is a member
        }

        var end = pattern.IndexOf(']', i);
        return end < 0 ? null : end;
    }

    /// <summary>One element: a run of any characters, any one character, a literal, or a class of ranges.</summary>
    private sealed record Element(bool Star, bool Any, (char From, char To)[] Ranges, bool Negated)
    {
        public static Element AnyRun { get; } = new(true, false, [], false);

        public static Element AnyOne { get; } = new(false, true, [], false);

        public static Element Literal(char c) => new(false, false, [(c, c)], false);

        public static Element Class(string pattern, int start, int end)
        {
            var negated = pattern[start] is '!' or '^';
            var ranges = new List<(char, char)>();
            var i = negated ? start + 1 : start;
            for (var first = true; i < end; first = false)
            {
                if (i + 2 < end && pattern[i + 1] == '-' && !(first && pattern[i] == ']'))
                {
                    ranges.Add((pattern[i], pattern[i + 2]));
                    i += 3;
                }
                else
                {
                    ranges.Add((pattern[i], pattern[i]));
                    i++;
                }
            }

            return new Element(false, false, [.. ranges], negated);
        }

        public bool Matches(char c)
        {
            if (Any)
            {
                return true;
            }

            var found = false;
            foreach (var (from, to) in Ranges)
            {
                found |= c >= from && c <= to;
            }

            return found != Negated;
        }
    }
}
