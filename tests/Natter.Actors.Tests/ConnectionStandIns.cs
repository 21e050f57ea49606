using System.Collections.Concurrent;
using Akka.Actor;
using Natter.Actors.Chats;
using Natter.Actors.Connections;
using Natter.Actors.Presence;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using Natter.Messages.Users;
using Xunit;

namespace Natter.Actors.Tests;

// Stand-ins for the shard regions and the socket around a real ConnectionActor, shared by its specs.

/// <summary>The three regions a connection talks to: real ChatActors and PresenceActors behind stand-ins.</summary>
internal sealed record StandInRegions(IActorRef Chats, IActorRef Users, IActorRef Presence)
{
    public static StandInRegions Start(ActorSystem system)
    {
        var users = system.ActorOf(Props.Create(() => new ChatListUsers()));
        var presence = system.ActorOf(Props.Create(() => new CrashablePresenceRegion(users)));
        var chats = system.ActorOf(Props.Create(() => new ChatsRegion(presence)));
        return new StandInRegions(chats, users, presence);
    }
}

/// <summary>A real ConnectionActor of one device behind the stand-in regions, its socket a <see cref="RecordingOutbound"/>.</summary>
internal sealed record StandInDevice(IActorRef Connection, RecordingOutbound Outbound)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Connects the device and returns once its presence entity knows it.</summary>
    public static StandInDevice Connect(Akka.TestKit.TestKitBase kit, StandInRegions regions, UserId user, DeviceId device,
        ConnectionSettings? settings = null)
    {
        var outbound = new RecordingOutbound();
        var gateway = new ChatGateway(regions.Chats, regions.Users, Wait);
        var connection = kit.Sys.ActorOf(ConnectionActor.PropsFor(user, device, Guid.NewGuid().ToString("N"),
            DateTimeOffset.UtcNow.AddHours(1), outbound, gateway, regions.Presence, kit.CreateTestProbe().Ref, settings ?? new ConnectionSettings()));
        var connected = new StandInDevice(connection, outbound);
        connected.Next<WelcomeFrame>();
        kit.AwaitAssert(() =>
        {
            regions.Presence.Tell(new PresenceCommands.GetPresence(user), kit.TestActor);
            Assert.Contains(device, kit.ExpectMsg<PresenceCommands.PresenceStatus>(Wait).OnlineDevices);
        }, Wait, TimeSpan.FromMilliseconds(100));
        return connected;
    }

    /// <summary>The next frame of type <typeparamref name="T"/>; an error frame on the way fails the spec.</summary>
    public T Next<T>(TimeSpan? within = null) where T : ServerFrame => Outbound.Next<T>(within ?? Wait);

    public MessageFrame NextMessage(ChatId chat, TimeSpan? within = null)
    {
        while (true)
        {
            var message = Next<MessageFrame>(within);
            if (message.ChatId == chat.Value) return message;
        }
    }
}

internal sealed class RecordingOutbound : IClientOutbound
{
    public readonly BlockingCollection<ServerFrame> Frames = new();

    public bool TryEnqueue(ServerFrame frame)
    {
        Frames.Add(frame);
        return true;
    }

    public int Pending => 0;
    public int Capacity => 1024;
    public void Close(int closeCode, string reason) => Frames.CompleteAdding();

    /// <summary>
    /// The next frame of type <typeparamref name="T"/> within <paramref name="within"/>, skipping other frames; an error
    /// frame on the way fails the spec (unless errors are what it waits for).
    /// </summary>
    public T Next<T>(TimeSpan within) where T : ServerFrame
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (!Frames.TryTake(out var frame, TimeSpan.FromMilliseconds(100))) continue;
            if (frame is ErrorFrame error && typeof(T) != typeof(ErrorFrame)) throw new Xunit.Sdk.XunitException($"unexpected error frame {error}");
            if (frame is T wanted) return wanted;
        }
        throw new TimeoutException($"no {typeof(T).Name} within {within}");
    }
}

/// <summary>Starts each chat's ChatActor on its first message, as a shard region does; can leave fetches unanswered.</summary>
internal sealed class ChatsRegion : ReceiveActor
{
    public sealed record DropFetches(int Count);

    /// <summary>Fetches wait from now until <see cref="ReleaseFetches"/>, then go on in order.</summary>
    public sealed record HoldFetches;

    public sealed record ReleaseFetches;

    /// <summary>Answered with how many fetches are held.</summary>
    public sealed record CountHeldFetches;

    private int _dropFetches;
    private List<(object Message, IActorRef Sender)>? _held;

    public ChatsRegion(IActorRef presence)
    {
        Receive<DropFetches>(d => _dropFetches = d.Count);
        Receive<HoldFetches>(_ => _held = []);
        Receive<CountHeldFetches>(_ => Sender.Tell(_held?.Count ?? 0));
        Receive<ReleaseFetches>(_ =>
        {
            var held = _held ?? [];
            _held = null;
            foreach (var (message, sender) in held) Self.Tell(message, sender);
        });
        ReceiveAny(message =>
        {
            if (message is ChatQueries.GetMessagesAfter && _dropFetches > 0)
            {
                _dropFetches--;
                return;
            }
            if (message is ChatQueries.GetMessagesAfter && _held is not null)
            {
                _held.Add((message, Sender));
                return;
            }
            var id = ((IWithChatId)message).ChatId.Value;
            var chat = Context.Child(id);
            if (chat.IsNobody()) chat = Context.ActorOf(ChatActor.PropsFor(id, presence, new ChatSettings()), id);
            chat.Forward(message);
        });
    }
}

/// <summary>
/// Starts each user's PresenceActor on demand. <see cref="Crash"/> stops one the way a failed node loses it:
/// until <see cref="Recover"/>, pushes to that user are lost and everything else waits, as in a shard region
/// whose shard is being re-homed.
/// </summary>
internal sealed class CrashablePresenceRegion : ReceiveActor
{
    public sealed record Crash(UserId User);

    public sealed record Recover(UserId User);

    /// <summary>
    /// As <see cref="Crash"/>, but the entity is not stopped, so it says nothing to its connections: as when its
    /// node fails, which only the cluster's removal of that node announces.
    /// </summary>
    public sealed record Lose(UserId User);

    private readonly Dictionary<UserId, List<(object Message, IActorRef Sender)>> _down = new();
    private readonly Dictionary<UserId, IActorRef> _entities = new();
    private readonly IActorRef _users;

    public CrashablePresenceRegion(IActorRef users)
    {
        _users = users;
        Receive<Crash>(c =>
        {
            if (_entities.Remove(c.User, out var entity)) Context.Stop(entity);
            _down[c.User] = [];
        });
        Receive<Lose>(l =>
        {
            _entities.Remove(l.User);
            _down[l.User] = [];
        });
        Receive<Recover>(r =>
        {
            if (!_down.Remove(r.User, out var waiting)) return;
            foreach (var (message, sender) in waiting) Route(message, sender);
        });
        ReceiveAny(message =>
        {
            var user = ((IWithUserId)message).UserId;
            if (_down.TryGetValue(user, out var waiting))
            {
                if (message is not PresenceCommands.DeliverNotice) waiting.Add((message, Sender));
                return;
            }
            Route(message, Sender);
        });
    }

    private void Route(object message, IActorRef sender)
    {
        var user = ((IWithUserId)message).UserId;
        if (!_entities.TryGetValue(user, out var entity))
            _entities[user] = entity = Context.ActorOf(PresenceActor.PropsFor(user.Value, _users, Self));
        entity.Tell(message, sender);
    }
}

/// <summary>The users' shard region, as far as presence and sync ask it: chat lists set by the spec.</summary>
internal sealed class ChatListUsers : ReceiveActor
{
    public sealed record List(UserId User, IReadOnlyList<ChatId> Chats);

    private readonly Dictionary<UserId, IReadOnlyList<ChatId>> _lists = new();

    public ChatListUsers()
    {
        Receive<List>(l => _lists[l.User] = l.Chats);
        Receive<UserQueries.GetChatList>(q => Sender.Tell(new UserReplies.ChatList(q.UserId, _lists.GetValueOrDefault(q.UserId, []))));
        ReceiveAny(_ => { }); // last-seen records: nothing to answer for these specs
    }
}

/// <summary>A client that reads only when the spec says so: frames wait in a queue of <see cref="Capacity"/>.</summary>
internal sealed class SlowOutbound(int capacity) : IClientOutbound
{
    private readonly ConcurrentQueue<ServerFrame> _frames = new();

    public int? ClosedWith { get; private set; }

    public bool TryEnqueue(ServerFrame frame)
    {
        if (_frames.Count >= capacity) return false;
        _frames.Enqueue(frame);
        return true;
    }

    public int Pending => _frames.Count;
    public int Capacity => capacity;
    public void Close(int closeCode, string reason) => ClosedWith ??= closeCode;

    /// <summary>Takes up to <paramref name="count"/> frames, as a client reading its socket would.</summary>
    public List<ServerFrame> Read(int count)
    {
        var read = new List<ServerFrame>();
        while (read.Count < count && _frames.TryDequeue(out var frame)) read.Add(frame);
        return read;
    }
}
