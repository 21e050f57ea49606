using Akka.Actor;
using Akka.TestKit.Xunit2;
using Natter.Actors.Connections;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using Xunit;

namespace Natter.Actors.Tests;

/// <summary>
/// A request whose chat fails (not a timeout) is answered on the socket with `unavailable` and its rid, even by a
/// connection that has logged nothing before: the failure is handled off the actor's thread, where its logger
/// cannot be created.
/// </summary>
public sealed class GatewayFailureSpecs : TestKit
{
    private static readonly UserId Alice = new("15550000001");
    private static readonly UserId Bob = new("15550000002");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_history_request_whose_chat_fails_is_answered_unavailable_with_its_rid()
    {
        var chats = CreateTestProbe();
        var outbound = new RecordingOutbound();
        var connection = Sys.ActorOf(ConnectionActor.PropsFor(Bob, new DeviceId(1), "c1", DateTimeOffset.UtcNow.AddHours(1), outbound,
            new ChatGateway(chats.Ref, CreateTestProbe().Ref, Wait), CreateTestProbe().Ref, CreateTestProbe().Ref, new ConnectionSettings()));

        var chat = ChatId.Direct(Alice, Bob);
        connection.Tell(new ConnectionMessages.Inbound(new HistoryFrame { Rid = "h1", ChatId = chat.Value }));
        chats.ExpectMsg<ChatQueries.GetMessagesBefore>(Wait);
        chats.LastSender.Tell(new Status.Failure(new InvalidOperationException("the shard is moving")));

        var answer = TakeUntil<ErrorFrame>(outbound);
        Assert.Equal(ErrorCodes.Unavailable, answer.Code);
        Assert.Equal("h1", answer.Ref);
    }

    private static T TakeUntil<T>(RecordingOutbound outbound) where T : ServerFrame
    {
        while (outbound.Frames.TryTake(out var frame, Wait))
            if (frame is T found) return found;
        throw new Xunit.Sdk.XunitException($"no {typeof(T).Name} within {Wait}");
    }
}
