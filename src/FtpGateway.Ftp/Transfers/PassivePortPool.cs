using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace FtpGateway.Ftp.Transfers;

/// <summary>
/// Hands out listening sockets for passive mode from the configured range (or a port the kernel picks when no
/// range is set). Each port is chosen at random among the free ones, so nobody can predict the port of another
/// client's next transfer and connect to it first.
/// </summary>
internal sealed class PassivePortPool
{
    private readonly PortRange? _range;
    private readonly bool[] _inUse;
    private readonly Lock _lock = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, PassiveDataChannel> _waiting = new();
    private int _taken;

    public PassivePortPool(PortRange? range)
    {
        _range = range;
        _inUse = range is { } r ? new bool[r.Count] : [];
    }

    public int InUse
    {
        get
        {
            lock (_lock)
            {
                return _taken;
            }
        }
    }

    /// <summary>A bound, listening socket on <paramref name="address"/>, or null when the range is exhausted.</summary>
    public Socket? Listen(IPAddress address)
    {
        if (_range is not { } range)
        {
            return TryListen(address, 0);
        }

        // Ports another process holds stay marked until the search ends, so none is tried twice.
        var busy = new List<int>();
        try
        {
            while (true)
            {
                int index;
                lock (_lock)
                {
                    if (!TryTakeRandomFree(out index))
                    {
                        return null;
                    }
                }

                if (TryListen(address, range.Start + index) is { } socket)
                {
                    return socket;
                }

                busy.Add(range.Start + index);
            }
        }
        finally
        {
            busy.ForEach(Release);
        }
    }

    /// <summary>Marks a free port, chosen uniformly at random among the free ones, as taken. Called under the lock.</summary>
    private bool TryTakeRandomFree(out int index)
    {
        var free = _inUse.Length - _taken;
        index = -1;
        if (free == 0)
        {
            return false;
        }

        var pick = RandomNumberGenerator.GetInt32(free);
        for (var i = 0; i < _inUse.Length; i++)
        {
            if (!_inUse[i] && pick-- == 0)
            {
                index = i;
                break;
            }
        }

        _inUse[index] = true;
        _taken++;
        return true;
    }

    /// <summary>The channel waiting for a connection on <paramref name="port"/> (relayed connections are handed to it).</summary>
    public void Waiting(int port, PassiveDataChannel channel) => _waiting[port] = channel;

    /// <summary>True while a transfer waits for its connection on <paramref name="port"/>.</summary>
    public bool IsWaiting(int port) => _waiting.ContainsKey(port);

    /// <summary>Hands a relayed connection to the transfer waiting on <paramref name="port"/>; false when none waits.</summary>
    public bool TryDeliver(int port, Socket socket, IPAddress client) =>
        _waiting.TryGetValue(port, out var channel) && channel.TryTakeRelayed(socket, client);

    /// <summary>The channel on <paramref name="port"/> is done: the port is free again.</summary>
    public void Release(int port, PassiveDataChannel channel)
    {
        _waiting.TryRemove(new KeyValuePair<int, PassiveDataChannel>(port, channel));
        Release(port);
    }

    public void Release(int port)
    {
        if (_range is { } range && port >= range.Start && port <= range.End)
        {
            lock (_lock)
            {
                if (_inUse[port - range.Start])
                {
                    _inUse[port - range.Start] = false;
                    _taken--;
                }
            }
        }
    }

    private static Socket? TryListen(IPAddress address, int port)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(1); // one connection is taken, then the listener closes
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }
}
