using System.Globalization;
using System.Security;
using System.Text;

namespace FtpGateway.Benchmarks;

/// <summary>
/// The report as an SVG bar chart the README embeds (people compare bars faster than tables): one bar per row, its
/// length the ratio to the peer (1.0 = as good as the peer; oriented so that longer is better), a mark at the row's
/// target, green where it is met and amber where it is not, the two figures written beside it.
/// </summary>
internal static class ReportChart
{
    private const int Width = 1240;
    private const int LabelWidth = 430;
    private const int BarArea = 380;
    private const int RowHeight = 26;
    private const double MaxRatio = 2.0;

    public static string Render(IReadOnlyList<Row> rows, string title)
    {
        var height = 60 + (rows.Count * RowHeight) + 30;
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(Invariant($"<rect width=\"{Width}\" height=\"{height}\" fill=\"#ffffff\"/>\n"));
        svg.Append(Invariant($"<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>\n"));
        svg.Append("<text x=\"10\" y=\"42\" fill=\"#555\">ratio to the peer in the same run (longer is better; the line is 1.0, the tick the target)</text>\n");
        var x0 = LabelWidth;
        var one = x0 + (BarArea / MaxRatio);
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            var y = 56 + (i * RowHeight);
            var ratio = Math.Clamp(r.Ratio, 0, MaxRatio);
            var length = ratio / MaxRatio * BarArea;
            var colour = r.Met ? "#3a9d5d" : "#e0a030";
            svg.Append(Invariant($"<text x=\"10\" y=\"{y + 15}\">{Escape($"{r.Section}: {r.What}")}</text>\n"));
            svg.Append(Invariant($"<rect x=\"{x0}\" y=\"{y + 4}\" width=\"{length:F1}\" height=\"16\" fill=\"{colour}\"/>\n"));
            var target = x0 + (Math.Min(r.Target, MaxRatio) / MaxRatio * BarArea);
            svg.Append(Invariant($"<line x1=\"{target:F1}\" y1=\"{y + 1}\" x2=\"{target:F1}\" y2=\"{y + 23}\" stroke=\"#222\" stroke-width=\"2\"/>\n"));
            svg.Append(Invariant($"<text x=\"{x0 + BarArea + 8}\" y=\"{y + 15}\">{r.Ratio:F2}× ({Escape(Figure(r.Gateway))} vs {Escape(Figure(r.PeerValue))} {Escape(r.Unit)}, {Escape(r.Peer)})</text>\n"));
        }

        var bottom = 56 + (rows.Count * RowHeight);
        svg.Append(Invariant($"<line x1=\"{one:F1}\" y1=\"50\" x2=\"{one:F1}\" y2=\"{bottom}\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n"));
        svg.Append(Invariant($"<text x=\"{one - 8:F1}\" y=\"{bottom + 16}\" fill=\"#555\">1.0</text>\n"));
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Figure(double value) => value.ToString(value >= 100 ? "0" : "0.###", CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
