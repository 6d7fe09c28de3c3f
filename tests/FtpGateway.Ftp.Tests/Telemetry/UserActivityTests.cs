using System.Diagnostics.Metrics;
using FtpGateway.Ftp.Telemetry;
using Microsoft.Extensions.Time.Testing;

namespace FtpGateway.Ftp.Tests.Telemetry;

/// <summary>Per-user series leave: a user silent longer than the retention, and the oldest beyond the cap.</summary>
public sealed class UserActivityTests
{
    [Fact]
    public void AUserSilentLongerThanTheRetention_LosesItsSeries()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var meter = "test-" + Guid.NewGuid();
        using var activity = new UserActivity(meter, new TelemetryOptions { PerUserMetrics = true, PerUserMetricsRetention = TimeSpan.FromDays(30) }, time);
        activity.Uploaded("cam01");
        time.Advance(TimeSpan.FromDays(20));
        activity.Uploaded("cam02");
        Assert.Equal(["cam01", "cam02"], Observed(meter));
        time.Advance(TimeSpan.FromDays(11)); // cam01: 31 days silent
        Assert.Equal(["cam02"], Observed(meter));
    }

    [Fact]
    public void BeyondTheCap_TheUserWhoseLastUploadIsOldest_MakesRoom()
    {
        var time = new FakeTimeProvider();
        var meter = "test-" + Guid.NewGuid();
        using var activity = new UserActivity(meter, new TelemetryOptions { PerUserMetrics = true, PerUserMetricsMaxUsers = 2 }, time);
        activity.Uploaded("a");
        time.Advance(TimeSpan.FromMinutes(1));
        activity.Uploaded("b");
        time.Advance(TimeSpan.FromMinutes(1));
        activity.Uploaded("a"); // a is recent again
        time.Advance(TimeSpan.FromMinutes(1));
        activity.Uploaded("c");
        Assert.Equal(["a", "c"], Observed(meter));
        Assert.Equal(2, activity.Count);
    }

    /// <summary>The users the observable counter reports now.</summary>
    private static List<string> Observed(string meter)
    {
        var users = new List<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == meter && instrument.Name == "ftpgateway.user.uploads")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) => users.Add((string)tags[0].Value!));
        listener.Start();
        listener.RecordObservableInstruments();
        return [.. users.Order(StringComparer.Ordinal)];
    }
}
