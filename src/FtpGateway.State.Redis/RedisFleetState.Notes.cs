namespace FtpGateway.State.Redis;

/// <summary>Counters and notes that live for a while: the devices' guardrails and who stored what (ownUploadsEditableFor).</summary>
internal sealed partial class RedisFleetState
{
    public async Task<long> CountAsync(string counter, long amount, TimeSpan lifetime, CancellationToken ct) =>
        (long)await EvalAsync(Scripts.Count, [Key("count:", counter)], [amount, Ms(lifetime)], ct);

    public Task NoteAsync(string key, string value, TimeSpan lifetime, CancellationToken ct) =>
        RunAsync(() => _db.StringSetAsync(Key("note:", key), value, lifetime), ct);

    public async Task<string?> RecallAsync(string key, CancellationToken ct) =>
        await RunAsync(() => _db.StringGetAsync(Key("note:", key)), ct) is { IsNull: false } value ? (string?)value : null;

    public Task ForgetAsync(string key, CancellationToken ct) =>
        RunAsync(() => _db.KeyDeleteAsync(Key("note:", key)), ct);
}
