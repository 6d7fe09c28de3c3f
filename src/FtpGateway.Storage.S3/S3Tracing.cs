using System.Collections.Concurrent;
using System.Diagnostics;
using Amazon.Runtime.Telemetry;
using Amazon.Runtime.Telemetry.Tracing;

namespace FtpGateway.Storage.S3;

/// <summary>
/// Turns the AWS SDK's own tracing hooks (<c>Amazon.Runtime.Telemetry</c>: one span per S3 operation, one per
/// HTTP attempt underneath, with <c>rpc.*</c>, <c>aws.request_id</c> and <c>http.*</c> attributes) into
/// System.Diagnostics activities, so every S3 call nests under the gateway's storage span and reaches whatever
/// OpenTelemetry exports. It is what OpenTelemetry.Instrumentation.AWS does; that package is not in the registry
/// this project builds from. The sources are named by the SDK's scope (<c>AWSSDK.S3</c>); with no listener,
/// no activity is created and a span costs one null check.
/// </summary>
internal sealed class ActivityTracerProvider : TracerProvider
{
    public static TelemetryProvider Telemetry { get; } = CreateTelemetry();

    private readonly ConcurrentDictionary<string, ActivityTracer> _tracers = new(StringComparer.Ordinal);

    public override Tracer GetTracer(string scope) => _tracers.GetOrAdd(scope, s => new ActivityTracer(new ActivitySource(s)));

    private static DefaultTelemetryProvider CreateTelemetry()
    {
        var telemetry = new DefaultTelemetryProvider();
        telemetry.RegisterTracerProvider(new ActivityTracerProvider());
        return telemetry;
    }

    private sealed class ActivityTracer(ActivitySource source) : Tracer
    {
        public override TraceSpan CreateSpan(string name, Attributes? initialAttributes = null, SpanKind spanKind = SpanKind.INTERNAL, SpanContext? parentContext = null)
        {
            var kind = spanKind switch
            {
                SpanKind.CLIENT => ActivityKind.Client,
                SpanKind.SERVER => ActivityKind.Server,
                SpanKind.PRODUCER => ActivityKind.Producer,
                SpanKind.CONSUMER => ActivityKind.Consumer,
                _ => ActivityKind.Internal,
            };

            // The parent is the ambient activity: the gateway's storage span, or the SDK's operation span.
            var activity = source.StartActivity(name, kind, parentContext: default, tags: initialAttributes?.AllAttributes);
            return new ActivitySpan(name, activity);
        }
    }

    private sealed class ActivitySpan : TraceSpan
    {
        private readonly Activity? _activity;

        public ActivitySpan(string name, Activity? activity)
        {
            Name = name;
            _activity = activity;
        }

        public override void SetAttribute(string key, object value) => _activity?.SetTag(key, value);

        public override void SetStatus(SpanStatus status) => _activity?.SetStatus(status switch
        {
            SpanStatus.OK => ActivityStatusCode.Ok,
            SpanStatus.ERROR => ActivityStatusCode.Error,
            _ => ActivityStatusCode.Unset,
        });

        public override void RecordException(Exception exception, Attributes? attributes = null)
        {
            if (_activity is null)
            {
                return;
            }

            _activity.SetStatus(ActivityStatusCode.Error);
            _activity.SetTag("error.type", exception.GetType().FullName);
            _activity.AddException(exception, attributes is null ? default : new TagList([.. attributes.AllAttributes]));
        }

        public override void EmitEvent(string name, Attributes? attributes = null) =>
            _activity?.AddEvent(new ActivityEvent(name, tags: attributes is null ? null : new ActivityTagsCollection(attributes.AllAttributes)));

        public override void End() => _activity?.Stop();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _activity?.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
