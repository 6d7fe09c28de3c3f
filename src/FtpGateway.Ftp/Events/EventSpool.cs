using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FtpGateway.Ftp.Events;

/// <summary>An event waiting for delivery: its body, when it happened, whose it is, and its spool file (if any).</summary>
internal sealed record PendingEvent(byte[] Body, DateTimeOffset Created, string User, string? File);

/// <summary>
/// One webhook's events on disk until delivered: one file per event, written and flushed before the client hears
/// of what happened, named by time and sequence so a restart replays them in the order they were written. One
/// directory per webhook, named by its position and URL: a changed URL does not inherit another's events.
/// </summary>
internal sealed class EventSpool
{
    private readonly string _directory;
    private long _sequence;

    private EventSpool(string directory) => _directory = directory;

    /// <summary>The spool of webhook <paramref name="index"/> under <paramref name="root"/>, and the events it still holds.</summary>
    public static (EventSpool Spool, List<PendingEvent> Left) Open(string root, int index, string url, TimeProvider time)
    {
        var name = $"webhook-{index}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url)))[..12]}";
        var spool = new EventSpool(Directory.CreateDirectory(Path.Combine(root, name)).FullName);
        foreach (var orphan in Directory.GetFiles(spool._directory, "*.tmp"))
        {
            File.Delete(orphan); // a write a crash interrupted: never acknowledged to anyone
        }

        var left = Directory.GetFiles(spool._directory, "*.json").Order(StringComparer.Ordinal)
            .Select(file => File.ReadAllBytes(file) is var body ? new PendingEvent(body, CreatedFrom(file) ?? time.GetUtcNow(), UserOf(body), file) : null!)
            .ToList();
        spool._sequence = left.Count;
        return (spool, left);
    }

    /// <summary>Writes and flushes the event; returns its file. Throws IOException or UnauthorizedAccessException.</summary>
    public string Write(byte[] body, DateTimeOffset created)
    {
        var file = Path.Combine(_directory, string.Create(CultureInfo.InvariantCulture, $"{created.UtcTicks:D20}-{Interlocked.Increment(ref _sequence):D10}.json"));
        using (var stream = new FileStream(file + ".tmp", FileMode.CreateNew, FileAccess.Write))
        {
            stream.Write(body);
            stream.Flush(flushToDisk: true);
        }

        File.Move(file + ".tmp", file);
        return file;
    }

    /// <summary>The user an event is about (its data's <c>user</c>), so that a replayed event keeps its place in its user's line.</summary>
    private static string UserOf(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                && data.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.String
                ? user.GetString()!
                : string.Empty;
        }
        catch (JsonException)
        {
            return string.Empty;
        }
    }

    private static DateTimeOffset? CreatedFrom(string file) =>
        long.TryParse(Path.GetFileName(file).AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            ? new DateTimeOffset(ticks, TimeSpan.Zero)
            : null;
}
