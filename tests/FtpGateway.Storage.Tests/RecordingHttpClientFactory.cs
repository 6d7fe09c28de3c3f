using System.Collections.Concurrent;
using Amazon.Runtime;

namespace FtpGateway.Storage.Tests;

/// <summary>
/// Gives the AWS SDK HTTP clients that record every request (method, path, query, headers) before sending it on
/// to the real store unchanged: what the gateway asked the store to do, where the store cannot show it.
/// <paramref name="fail"/> makes chosen requests fail as a broken network does; <paramref name="answer"/> answers
/// chosen requests itself, as AWS would where the local store behaves differently.
/// </summary>
internal sealed class RecordingHttpClientFactory(Func<RecordedRequest, bool>? fail = null, Func<RecordedRequest, HttpResponseMessage?>? answer = null) : HttpClientFactory
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new Recorder(_requests, fail, answer, new HttpClientHandler()));

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

    private sealed class Recorder(ConcurrentQueue<RecordedRequest> requests, Func<RecordedRequest, bool>? fail, Func<RecordedRequest, HttpResponseMessage?>? answer, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
                .ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
            var recorded = new RecordedRequest(request.Method.Method, request.RequestUri!.AbsolutePath, request.RequestUri.Query, headers);
            requests.Enqueue(recorded);
            if (fail?.Invoke(recorded) == true)
            {
                throw new HttpRequestException("injected: the store went away for this request");
            }

            return answer?.Invoke(recorded) is { } response ? Task.FromResult(response) : base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>One request the SDK sent, and which S3 operation it is.</summary>
internal sealed record RecordedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.GetValueOrDefault(name);

    public string Kind => (Method, Query.Contains("uploads", StringComparison.Ordinal), Query.Contains("partNumber", StringComparison.Ordinal), Header("x-amz-copy-source") is not null) switch
    {
        ("POST", true, _, _) => "CreateMultipartUpload",
        ("POST", _, _, _) when Query.Contains("uploadId", StringComparison.Ordinal) => "CompleteMultipartUpload",
        ("PUT", _, true, true) => "UploadPartCopy",
        ("PUT", _, true, false) => "UploadPart",
        ("PUT", _, false, true) => "CopyObject",
        ("PUT", _, false, false) => "PutObject",
        ("GET", _, _, _) when Query.Contains("list-type=2", StringComparison.Ordinal) => "ListObjectsV2",
        ("HEAD", _, _, _) => "HeadObject",
        _ => Method,
    };

    /// <summary>Requests that create an object (and so must carry the storage class and encryption).</summary>
    public bool CreatesObject => Kind is "PutObject" or "CopyObject" or "CreateMultipartUpload";
}
