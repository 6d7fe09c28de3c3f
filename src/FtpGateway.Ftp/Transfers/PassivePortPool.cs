using System.Net;
using System.Net.Sockets;

namespace FtpGateway.Ftp.Transfers;

/// <summary>
/// Hands out listening sockets for passive mode from the configured range (or any free port when no range
/// is set). Ports are tried round-robin so a port just released is not immediately reused.
/// </summary>
internal sealed class PassivePortPool
{
    private readonly (int Start, int End)? _range;
    private readonly bool[] _inUse;
    private readonly Lock _lock = new();
    private int _next;

    public PassivePortPool((int Start, int End)? range)
    {
        _range = range;
        _inUse = range is { } r ? new bool[r.End - r.Start + 1] : [];
    }

    public int InUse
    {
        get
        {
            lock (_lock)
            {
                return _inUse.Count(x => x);
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

        for (var attempt = 0; attempt < _inUse.Length; attempt++)
        {
            int index;
            lock (_lock)
            {
                index = (_next + attempt) % _inUse.Length;
                if (_inUse[index])
                {
                    continue;
                }

                _inUse[index] = true;
                _next = (index + 1) % _inUse.Length;
            }

            var socket = TryListen(address, range.Start + index);
            if (socket is not null)
            {
                return socket;
            }

            Release(range.Start + index); // taken by another process: try the next one
        }

        return null;
    }

    public void Release(int port)
    {
        if (_range is { } range && port >= range.Start && port <= range.End)
        {
            lock (_lock)
            {
                _inUse[port - range.Start] = false;
            }
        }
    }

    private static Socket? TryListen(IPAddress address, int port)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(4);
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }
}
