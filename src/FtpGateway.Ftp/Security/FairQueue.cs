using System.Net;

namespace FtpGateway.Ftp.Security;

/// <summary>
/// Work waiting per client (an IPv4 address, an IPv6 /64), served in turns: clients with work waiting take turns
/// round robin, one item per turn, each with at most <c>perClient</c> items in progress. A flood from one address
/// waits behind itself, never in front of another client. Items that are no longer wanted are removed at once, so
/// nothing abandoned stays queued. Not a scheduler: its users take items (<see cref="TryTake"/>), run them as they
/// do (dedicated threads, asynchronous work), and say when each is done (<see cref="Done"/>).
/// </summary>
internal sealed class FairQueue<T>(int perClient)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Client> _clients = [];
    private readonly Queue<IPAddress> _turns = new();

    /// <summary>Items waiting now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _clients.Values.Sum(c => c.Waiting.Count);
            }
        }
    }

    /// <summary>Queues <paramref name="item"/> for <paramref name="client"/>; the handle removes it while it waits.</summary>
    public object Add(IPAddress client, T item)
    {
        var key = Addresses.ClientKey(client);
        lock (_lock)
        {
            if (!_clients.TryGetValue(key, out var entry))
            {
                _clients[key] = entry = new Client(key);
            }

            var node = entry.Waiting.AddLast(item);
            Ready(entry);
            return (entry, node);
        }
    }

    /// <summary>Takes a waiting item out of the queue (its session went away); false when it was taken already.</summary>
    public bool Remove(object handle)
    {
        var (entry, node) = ((Client, LinkedListNode<T>))handle;
        lock (_lock)
        {
            if (node.List is null)
            {
                return false;
            }

            entry.Waiting.Remove(node);
            Forget(entry);
            return true;
        }
    }

    /// <summary>The next client's oldest item, counted as in progress until <see cref="Done"/>; false when none may start.</summary>
    public bool TryTake(out T item, out IPAddress client)
    {
        lock (_lock)
        {
            while (_turns.TryDequeue(out client!))
            {
                var entry = _clients[client];
                entry.InTurns = false;
                if (entry.Waiting.First is not { } first || entry.InProgress >= perClient)
                {
                    Forget(entry);
                    continue;
                }

                entry.Waiting.RemoveFirst();
                entry.InProgress++;
                item = first.Value;
                Ready(entry); // its next item, behind every other client waiting now
                return true;
            }

            item = default!;
            return false;
        }
    }

    /// <summary>An item of <paramref name="client"/> taken with <see cref="TryTake"/> has finished.</summary>
    public void Done(IPAddress client)
    {
        lock (_lock)
        {
            if (_clients.TryGetValue(client, out var entry))
            {
                entry.InProgress--;
                Ready(entry);
                Forget(entry);
            }
        }
    }

    /// <summary>Puts a client in line for a turn when it has work it may start. Called under the lock.</summary>
    private void Ready(Client entry)
    {
        if (!entry.InTurns && entry.Waiting.Count > 0 && entry.InProgress < perClient)
        {
            entry.InTurns = true;
            _turns.Enqueue(entry.Key);
        }
    }

    /// <summary>Drops a client with nothing waiting or in progress. Called under the lock.</summary>
    private void Forget(Client entry)
    {
        if (entry.Waiting.Count == 0 && entry.InProgress == 0 && !entry.InTurns)
        {
            _clients.Remove(entry.Key);
        }
    }

    private sealed class Client(IPAddress key)
    {
        public IPAddress Key { get; } = key;

        public LinkedList<T> Waiting { get; } = new();

        public int InProgress { get; set; }

        public bool InTurns { get; set; }
    }
}
