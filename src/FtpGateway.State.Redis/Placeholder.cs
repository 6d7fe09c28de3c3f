namespace FtpGateway.State.Redis;

internal static class Placeholder
{
}
