using Azure;
using Azure.Storage.Blobs;
using FtpGateway.Storage.AzureBlob;

namespace FtpGateway.Storage.Tests.AzureBlob;

/// <summary>How Azure's refusals become storage errors (Azurite cannot produce an immutability refusal: the error codes are Azure's documented ones).</summary>
public sealed class AzureErrorTests
{
    private static readonly AzureObjectStore Store = new(new AzureContainer(new BlobContainerClient(new Uri("http://127.0.0.1:9/account/container")), null));

    [Theory]
    [InlineData(409, "BlobImmutableDueToPolicy", StorageErrorKind.Retained)]
    [InlineData(409, "BlobImmutableDueToLegalHold", StorageErrorKind.Retained)]
    [InlineData(409, "BlobAlreadyExists", StorageErrorKind.AlreadyExists)]
    [InlineData(412, "ConditionNotMet", StorageErrorKind.AlreadyExists)]
    [InlineData(404, "BlobNotFound", StorageErrorKind.NotFound)]
    [InlineData(404, "ContainerNotFound", StorageErrorKind.Unavailable)]
    public void AzuresRefusals_BecomeTheirStorageErrors(int status, string code, StorageErrorKind kind) =>
        Assert.Equal(kind, Store.Translate(new RequestFailedException(status, "refused", code, null), StoragePath.Parse("/a.bin")).Kind);
}
