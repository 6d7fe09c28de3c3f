namespace FtpGateway.Ftp.Transfers;

/// <summary>
/// Names that uploads of this gateway are about to store under <c>onExistingFile: Rename</c>: two sessions storing
/// the same name at once pick different free names instead of the same one. A reservation lasts until its upload
/// ends; one whose transfer never started (no data connection) lapses after <see cref="Unstarted"/>. Across
/// gateways the conditional create at the commit is what keeps two uploads from replacing each other.
/// </summary>
internal sealed class NameReservations(TimeProvider time)
{
    /// <summary>How long a reservation holds before its transfer starts.</summary>
    public static readonly TimeSpan Unstarted = TimeSpan.FromMinutes(2);

    private readonly Dictionary<string, Reservation> _held = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Whether another upload holds <paramref name="key"/> (a storage target and path).</summary>
    public bool IsHeld(string key)
    {
        lock (_lock)
        {
            return _held.TryGetValue(key, out var r) && !r.Lapsed;
        }
    }

    /// <summary>Reserves <paramref name="key"/>; null when another upload holds it.</summary>
    public Reservation? TryReserve(string key)
    {
        lock (_lock)
        {
            if (_held.TryGetValue(key, out var held) && !held.Lapsed)
            {
                return null;
            }

            if (_held.Count >= 1024)
            {
                // Transfers that never started (no data connection) leave theirs behind: swept as they pile up.
                foreach (var lapsed in _held.Where(h => h.Value.Lapsed).Select(h => h.Key).ToList())
                {
                    _held.Remove(lapsed);
                }
            }

            var reservation = new Reservation(this, key, time.GetUtcNow() + Unstarted);
            _held[key] = reservation;
            return reservation;
        }
    }

    private DateTimeOffset Now => time.GetUtcNow();

    private void Release(Reservation reservation)
    {
        lock (_lock)
        {
            if (_held.TryGetValue(reservation.Key, out var held) && ReferenceEquals(held, reservation))
            {
                _held.Remove(reservation.Key);
            }
        }
    }

    /// <summary>One reserved name, released when disposed.</summary>
    internal sealed class Reservation(NameReservations owner, string key, DateTimeOffset lapses) : IDisposable
    {
        private bool _started;

        public string Key => key;

        internal bool Lapsed => !_started && owner.Now > lapses;

        /// <summary>The upload runs: held until it ends, however long it takes.</summary>
        public void Started() => _started = true;

        public void Dispose() => owner.Release(this);
    }
}
