using FtpGateway.Ftp.Telemetry;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace FtpGateway.IntegrationTests.Telemetry;

/// <summary>The per-user series through OpenTelemetry's SDK, with the views the host adds.</summary>
public sealed class PerUserSeriesTests
{
    [Fact]
    public void TwoThousandFiveHundredUsers_AreAllExported_NotFoldedIntoOverflow()
    {
        // OpenTelemetry keeps 2,000 series per instrument unless told otherwise.
        var options = new TelemetryOptions { PerUserMetrics = true };
        var (provider, telemetry, collect) = Start(options, new FakeTimeProvider());
        using (provider)
        using (telemetry)
        {
            for (var i = 0; i < 2_500; i++)
            {
                telemetry.UserUploaded($"cam{i:D4}");
            }

            var users = collect();
            Assert.Equal(2_500, users.Count);
            Assert.DoesNotContain("overflow", users);
        }
    }

    [Fact]
    public void UsersWhoLeft_MakeRoomForNewOnes_BeyondTheSdksOwnLimit()
    {
        // A pruned user's slot stays taken while its instrument lives: without a new meter, the newcomers of a
        // fleet that turns over would all fold into the overflow series.
        var time = new FakeTimeProvider();
        var options = new TelemetryOptions { PerUserMetrics = true, PerUserMetricsMaxUsers = 3 };
        var (provider, telemetry, collect) = Start(options, time);
        using (provider)
        using (telemetry)
        {
            for (var round = 0; round < 5; round++)
            {
                for (var i = 0; i < 3; i++)
                {
                    telemetry.UserUploaded($"round{round}-cam{i}");
                }

                Assert.Equal([$"round{round}-cam0", $"round{round}-cam1", $"round{round}-cam2"], collect());
                time.Advance(TimeSpan.FromMinutes(2));
            }
        }
    }

    private static (MeterProvider Provider, FtpTelemetry Telemetry, Func<List<string>> Collect) Start(TelemetryOptions options, TimeProvider time)
    {
        var exported = new List<Metric>();
        var provider = Sdk.CreateMeterProviderBuilder().AddMeter(FtpTelemetry.Name).AddPerUserViews(options).AddInMemoryExporter(exported).Build();
        var telemetry = new FtpTelemetry(null, options, time);
        List<string> Collect()
        {
            exported.Clear();
            provider.ForceFlush();
            var users = new List<string>();
            foreach (var metric in exported.Where(m => m.Name == "ftpgateway.user.uploads"))
            {
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    foreach (var tag in point.Tags)
                    {
                        users.Add(tag.Key == "enduser.id" ? (string)tag.Value! : "overflow");
                    }
                }
            }

            return [.. users.Order(StringComparer.Ordinal)];
        }

        return (provider, telemetry, Collect);
    }
}
