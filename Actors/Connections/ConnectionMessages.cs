using Akka.Actor;
using Natter.Messages.Protocol;

namespace Natter.Actors.Connections;

/// <summary>Messages between a socket's read loop and its ConnectionActor; they never leave the edge process.</summary>
public static class ConnectionMessages
{
    public sealed record Inbound(ClientFrame Frame) : INoSerializationVerificationNeeded;

    /// <summary>A frame that could not be read; the actor answers with the error so output stays ordered.</summary>
    public sealed record InboundInvalid(ErrorFrame Error) : INoSerializationVerificationNeeded;

    public sealed record SocketClosed(string Reason) : INoSerializationVerificationNeeded;
}
