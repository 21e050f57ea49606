using Natter.Messages.Protocol;

namespace Natter.Actors.Connections;

/// <summary>The outgoing side of one client socket: a bounded queue drained by the socket writer.</summary>
public interface IClientOutbound
{
    /// <summary>Queues a frame; false when the queue is full (the client is not keeping up).</summary>
    bool TryEnqueue(ServerFrame frame);

    /// <summary>Frames queued and not yet written.</summary>
    int Pending { get; }

    /// <summary>How many frames the queue holds.</summary>
    int Capacity { get; }

    /// <summary>Flushes what is queued, then closes the socket with a close code and reason.</summary>
    void Close(int closeCode, string reason);
}
