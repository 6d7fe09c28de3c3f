using System.Collections.ObjectModel;
using System.Diagnostics;

namespace FtpGateway.IntegrationTests;

/// <summary>
/// The target of an in-memory trace exporter. Activity sources are process-wide, so a gateway's exporter also
/// receives the spans of gateways other tests run at the same time, on their threads: adding is locked, and
/// tests read a snapshot.
/// </summary>
internal sealed class ExportedSpans : Collection<Activity>
{
    private readonly Lock _lock = new();

    public List<Activity> Snapshot()
    {
        lock (_lock)
        {
            return [.. this];
        }
    }

    protected override void InsertItem(int index, Activity item)
    {
        lock (_lock)
        {
            base.InsertItem(index, item);
        }
    }
}
